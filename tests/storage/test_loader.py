"""Training batches: whole-chunk reads, deterministic splits, fresh noise for training."""

import numpy as np
import pytest

from flows.jobs.generate import GenerateRequest, fill_chunk, prepare
from storage.loader import SPLITS, StoreBatches, label_stats, split_of


def collect(batches):
    return list(batches)


def test_split_is_a_deterministic_70_15_15_hash_of_targetid():
    ids = np.arange(200_000)
    split = split_of(ids, seed=0)
    fractions = np.bincount(split, minlength=3) / len(ids)
    np.testing.assert_allclose(fractions, [0.70, 0.15, 0.15], atol=0.005)
    np.testing.assert_array_equal(split, split_of(ids[::-1], seed=0)[::-1])  # order-free
    assert (split != split_of(ids, seed=1)).mean() > 0.3  # the seed changes it


def test_every_spectrum_is_served_once_per_epoch_in_exactly_one_split(small_training_store):
    seen = {name: np.concatenate([b.targetid for b in StoreBatches(small_training_store, name, 100)])
            for name in SPLITS}
    all_ids = np.concatenate(list(seen.values()))
    assert len(all_ids) == len(np.unique(all_ids)) == 1536
    assert len(seen["train"]) == len(StoreBatches(small_training_store, "train"))


def test_training_noise_is_fresh_each_epoch_and_validation_noise_fixed(small_training_store):
    train = StoreBatches(small_training_store, "train", 64, limit=64)
    first = collect(train)[0]
    train.epoch = 1
    second = collect(train)[0]
    assert not np.array_equal(np.sort(first.targetid), np.sort(second.targetid)) or \
        not np.array_equal(first.flux, second.flux)
    val = StoreBatches(small_training_store, "val", 64)
    a, b = collect(val)[0], collect(val)[0]
    np.testing.assert_array_equal(a.flux, b.flux)
    np.testing.assert_array_equal(a.targetid, b.targetid)


def test_batches_hold_noisy_flux_ivar_labels_and_the_transform(small_training_store):
    batches = StoreBatches(small_training_store, "val", 32, transform=lambda f, i: f[:, :8] * 0 + 1)
    batch = collect(batches)[0]
    assert batch.flux.shape == batch.ivar.shape == (32, 10240)
    covered = batch.ivar > 0
    assert covered.any(axis=1).all() and np.all(batch.flux[~covered] == 0)
    assert set(batch.labels) >= {"z", "log_sfr", "metallicity", "log_q", "log_pk", "ebv"}
    assert batch.labels["z"].dtype == np.float32
    np.testing.assert_array_equal(batch.inputs, np.ones((32, 8)))


def test_incomplete_store_is_refused(tmp_path):
    path = tmp_path / "part.zarr"
    prepare(GenerateRequest(str(path), n=100, chunk=50, seed=1))
    with pytest.raises(ValueError, match="incomplete.*spectroflow generate"):
        StoreBatches(path, "train")


def test_label_stats_of_the_training_split(small_training_store):
    stats = label_stats(small_training_store, ["z", "ebv", "no_such_label"])
    assert set(stats) == {"z", "ebv"}
    assert 0.1 < stats["z"][0] < 5.8 and stats["z"][1] > 0


def test_loader_applies_the_recorded_artifacts_on_native_pixels(tmp_path):
    """A default-preset store: every DEIMOS spectrum has its chip gap near the middle of its
    coverage in every batch and epoch, and noise is correlated as after ingest."""
    import zarr

    path = tmp_path / "default.zarr"
    request = GenerateRequest(str(path), n=96, chunk=96, seed=4)
    for index in prepare(request):
        fill_chunk(str(path), index)
    group = zarr.open_group(str(path), mode="r")
    assert group.attrs["generator"]["artifacts"] and group.attrs["generator"]["native"]
    assert np.all(group["has_gap"][:] == 1) and group["n_masked"][:].min() > 0
    lo, hi = group["pixel_lo"][:], group["pixel_hi"][:]
    wavelength = group["wavelength"][:]
    loader = StoreBatches(path, "train", 96)
    for epoch in range(2):
        loader.epoch = epoch
        batch = collect(loader)[0]
        rows = batch.targetid
        centre = np.searchsorted(wavelength, 0.5 * (wavelength[lo[rows]] + wavelength[hi[rows]]))
        assert np.all(batch.ivar[np.arange(len(rows)), centre] == 0)
        assert np.isfinite(batch.flux).all()
