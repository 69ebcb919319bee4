"""Generation without Prefect: requests, checks before work, and one chunk's work."""

import os

import numpy as np
import pytest

from flows.jobs.generate import GenerateRequest, check, fill_chunk, prepare
from storage import store


def store_bytes(path):
    """Relative path -> bytes of every file in a store."""
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_chunks_are_the_same_whatever_the_order_and_however_often(tmp_path):
    forward, backward = tmp_path / "f.zarr", tmp_path / "b.zarr"
    for path, order in ((forward, [0, 1, 2]), (backward, [2, 1, 0, 1])):
        request = GenerateRequest(str(path), n=300, chunk=128, seed=7)
        assert prepare(request) == [0, 1, 2]
        for index in order:
            fill_chunk(str(path), index)
    assert store_bytes(forward) == store_bytes(backward)
    assert store.verify(forward).ok
    ds = store.open_dataset(forward)
    assert ds.sizes["spectrum"] == 300
    np.testing.assert_array_equal(ds["targetid"].values, np.arange(300))


def test_small_runs_use_one_chunk_and_complete_stores_are_left_alone(tmp_path):
    request = GenerateRequest(str(tmp_path / "s.zarr"), n=20, seed=1)
    assert request.chunk_size == 20 and request.n_chunks == 1
    for index in prepare(request):
        fill_chunk(request.out, index)
    assert check(request) == "complete"
    assert prepare(request) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0}, "--n must be at least 1"),
    ({"chunk": 0}, "--chunk must be at least 1"),
    ({"preset": "fancy"}, "unknown preset"),
    ({"instrument": "hubble"}, "hubble"),
])
def test_bad_requests_fail_with_what_to_change(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        GenerateRequest(**{"out": str(tmp_path / "s.zarr"), "n": 10, **kwargs})


def test_resuming_with_other_settings_says_what_differs(tmp_path):
    path = str(tmp_path / "s.zarr")
    prepare(GenerateRequest(path, n=300, chunk=128, seed=7))
    with pytest.raises(ValueError) as err:
        check(GenerateRequest(path, n=300, chunk=100, seed=7, preset="thesis"))
    assert "generator.chunk: store has 128, this run asks for 100" in str(err.value)
    assert "generator.preset: store has 'default', this run asks for 'thesis'" in str(err.value)
    assert check(GenerateRequest(path, n=300, chunk=100, seed=7), overwrite=True) == "create"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_location_fails_before_work(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ValueError, match="not writable"):
        check(GenerateRequest(str(locked / "s.zarr"), n=10))


def test_missing_directory_fails_before_work(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        check(GenerateRequest(str(tmp_path / "nowhere" / "s.zarr"), n=10))


def test_path_under_a_file_fails_before_work(tmp_path):
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(ValueError, match="is a file, not a directory"):
        check(GenerateRequest(str(tmp_path / "notes.txt" / "s.zarr"), n=10))


def test_chunks_cycle_through_several_instruments(tmp_path):
    from storage.loader import StoreBatches

    path = tmp_path / "mixed.zarr"
    request = GenerateRequest(str(path), n=300, chunk=100, seed=3, instrument="deimos,sdss,desi")
    for index in prepare(request):
        fill_chunk(str(path), index)
    ds = store.open_dataset(path)
    np.testing.assert_array_equal(ds["instrument"].values, np.repeat([0, 1, 2], 100))
    assert ds["noise_sky"].shape == (3, 10240)
    assert [i["name"] for i in store.read_attrs(path)["instruments"]] == ["deimos", "sdss", "desi"]
    sdss_lo = ds["lambda_lo"].values[100:200]
    np.testing.assert_allclose(sdss_lo, 3800.0)  # SDSS rows have SDSS coverage
    batch = next(iter(StoreBatches(path, "train", 300)))
    assert np.isfinite(batch.flux).all() and (batch.ivar >= 0).all()
    with pytest.raises(ValueError, match="unknown instrument 'hst'"):
        GenerateRequest(str(tmp_path / "x.zarr"), n=10, instrument="deimos,hst")


def test_a_simulated_survey_store_holds_scorable_spectra_and_their_truth(tmp_path):
    import zarr

    from flows.jobs.score import ScoreRequest
    from pipeline.learn import weights
    from storage import survey_store

    path = tmp_path / "survey.zarr"
    request = GenerateRequest(str(path), n=200, chunk=128, seed=5, instrument="deimos,sdss", kind="survey")
    for index in prepare(request):
        fill_chunk(str(path), index)
    group = zarr.open_group(str(path), mode="r")
    assert store.read_attrs(path)["store"]["kind"] == survey_store.KIND and store.verify(path).ok
    truth = survey_store.read_truth(group)
    assert set(truth) == set(survey_store.TRUTH) and np.all((truth["z"] > 0) & (truth["snr"] > 0))
    np.testing.assert_array_equal(group["targetid"][:], np.arange(200))
    covered = group["ivar"][:] > 0
    assert covered[:128].sum(axis=1).mean() != pytest.approx(covered[128:].sum(axis=1).mean(), rel=0.05)
    ScoreRequest(str(path), weights.resolve(weights.DEFAULT), str(tmp_path / "cat")).check()  # scorable as is
    before = store_bytes(path)
    fill_chunk(str(path), 1)
    assert store_bytes(path) == before  # deterministic per (seed, chunk)
    with pytest.raises(ValueError, match="store"):
        check(GenerateRequest(str(path), n=200, chunk=128, seed=5, instrument="deimos,sdss"))


def test_a_store_without_truth_cannot_be_evaluated(tmp_path):
    import zarr

    from storage import survey_store

    request = GenerateRequest(str(tmp_path / "train.zarr"), n=10, chunk=10, seed=1)
    prepare(request)
    with pytest.raises(ValueError, match="train.zarr holds no simulation truth"):
        survey_store.read_truth(zarr.open_group(request.out, mode="r"))
    with pytest.raises(ValueError, match="unknown store kind"):
        GenerateRequest(str(tmp_path / "x.zarr"), n=10, kind="catalogue")


def test_default_seeds_differ_by_kind_and_a_survey_cannot_take_the_training_default(tmp_path):
    training = GenerateRequest(str(tmp_path / "t.zarr"), n=10)
    survey = GenerateRequest(str(tmp_path / "s.zarr"), n=10, kind="survey")
    assert training.attrs()["generator"]["seed"] == 0
    assert survey.attrs()["generator"]["seed"] not in (None, training.seed)
    with pytest.raises(ValueError, match="default seed of training stores"):
        GenerateRequest(str(tmp_path / "s.zarr"), n=10, seed=training.seed, kind="survey")
