"""Training batches from a training store: whole chunks read, noise drawn fresh.

Reading: a chunk (thousands of spectra) is read from Zarr at once, never one
spectrum at a time, and kept compact (float16 model flux) until a batch is made.
Order: chunks are shuffled every epoch, and rows are shuffled within a buffer of
``buffer_chunks`` chunks. Noise: each batch's flux is the stored model plus a noise
draw from the stored noise model (``pipeline.physics.simulate.observe``): a new draw every
epoch for training (noise injection regularises), the same draw every epoch for
validation and test (comparable scores). Stores generated with artifacts or native
sampling (generator attributes ``artifacts``, ``native``; absent in older stores: off)
are observed the same way here: each spectrum's recorded ``artifact_key`` gives back its
recorded artifacts, and rows are observed on their instrument's native pixels (one call
per instrument in a batch). A background thread prepares the next
batches while the model trains (numpy releases the GIL on the big array work).

Split: every spectrum belongs to train / validation / test by a hash of its
``targetid`` (70 / 15 / 15 as in the thesis, §3.2), so the split does not depend on
chunking, order or number of workers.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass

import numpy as np
import zarr

from pipeline.physics import artifacts as art
from pipeline.physics.instruments import get_instrument
from pipeline.physics.observing import observing_path
from pipeline.physics.simulate import observe
from storage import store, training_store

SPLITS = {"train": (0.0, 0.70), "val": (0.70, 0.85), "test": (0.85, 1.0)}
#: Labels a batch carries (the network targets besides z, and the truth evaluations
#: split by: S/N and population, ``pipeline.physics.populations``), where the store has them.
LABELS = ("z", "log_sfr", "metallicity", "log_q", "log_pk", "ebv", "snr", "galaxy_class", "spectype", "subtype")
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def split_of(targetid: np.ndarray, seed: int = 0) -> np.ndarray:
    """Split name index per spectrum (0 train, 1 val, 2 test) from a hash of targetid."""
    x = np.asarray(targetid, dtype=np.uint64) * _GOLDEN + np.uint64(seed)
    x ^= x >> np.uint64(31)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(29)
    u = (x >> np.uint64(11)).astype(np.float64) / 2.0**53
    edges = [hi for _, hi in SPLITS.values()][:-1]
    return np.searchsorted(edges, u, side="right")


@dataclass
class Batch:
    """flux, ivar: (B, npix) float32 (1e-17 erg/s/cm2/Å and its inverse square);
    labels: name -> (B,) float32; targetid: (B,) int64; inputs: the network input
    made by the loader's ``transform`` (in its background thread), or None."""

    flux: np.ndarray
    ivar: np.ndarray
    labels: dict
    targetid: np.ndarray
    inputs: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.targetid)


class StoreBatches:
    """Iterate over batches of one split of a training store, epoch by epoch.

    path: the store; split: "train", "val" or "test"; batch_size: spectra per batch;
    seed: shuffling, split and noise seed; epoch: set before iterating (fresh noise
    and order each epoch for "train"; fixed order and noise for "val"/"test");
    transform: optional ``f(flux, ivar) -> network input``, run in the loader thread;
    limit: serve at most this many spectra per epoch.
    """

    def __init__(self, path, split: str, batch_size: int = 256, seed: int = 0, buffer_chunks: int = 2,
                 prefetch: int = 4, limit: int | None = None, transform=None):
        if split not in SPLITS:
            raise ValueError(f"split {split!r}: choose one of {list(SPLITS)}")
        self.path, self.split, self.batch_size, self.seed = str(path), split, batch_size, seed
        self.buffer_chunks, self.prefetch, self.limit = buffer_chunks, prefetch, limit
        self.transform = transform
        self.epoch = 0
        group = zarr.open_group(self.path, mode="r")
        self.n, self.chunk = store.layout(self.path)
        self.n_chunks = store.n_chunks(self.n, self.chunk)
        self.sky = group["noise_sky"][:]
        self.object = group["noise_object"][:]
        self.label_names = [name for name in LABELS if name in group]
        gen = dict(group.attrs).get("generator", {})
        self.artifacts = bool(gen.get("artifacts", False)) and "artifact_key" in group
        self.native = bool(gen.get("native", False))
        self.instruments = [get_instrument(i["name"]) for i in dict(group.attrs).get("instruments", [])]
        incomplete = store.incomplete_chunks(self.path)
        if incomplete:
            raise ValueError(f"{self.path} is incomplete ({len(incomplete)} chunks missing); "
                             "finish it with `spectroflow generate` (same arguments) first")

    @property
    def training(self) -> bool:
        return self.split == "train"

    def __len__(self) -> int:
        """Number of spectra in the split (counted from the targetids, cheap)."""
        ids = zarr.open_array(self.path, path="targetid", mode="r")[:]
        count = int(np.count_nonzero(split_of(ids, self.seed) == list(SPLITS).index(self.split)))
        return min(count, self.limit) if self.limit else count

    def __iter__(self):
        """Batches of this epoch, prepared in a background thread."""
        out: queue.Queue = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def produce():
            try:
                for batch in self._batches():
                    while not stop.is_set():
                        try:
                            out.put(batch, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                out.put(None)
            except BaseException as err:  # surfaced in the consumer
                out.put(err)

        thread = threading.Thread(target=produce, daemon=True, name="store-batches")
        thread.start()
        try:
            while (item := out.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            thread.join(timeout=10)

    def _batches(self):
        rng = np.random.default_rng([self.seed, self.epoch if self.training else 0, 7])
        order = rng.permutation(self.n_chunks) if self.training else np.arange(self.n_chunks)
        served = 0
        for start in range(0, self.n_chunks, self.buffer_chunks):
            rows = self._read(order[start:start + self.buffer_chunks])
            count = len(rows["targetid"])
            perm = rng.permutation(count) if self.training else np.arange(count)
            for first in range(0, count, self.batch_size):
                if self.limit and served >= self.limit:
                    return
                take = perm[first:first + self.batch_size]
                if self.limit:
                    take = take[: self.limit - served]
                served += len(take)
                yield self._materialise({k: v[take] for k, v in rows.items()}, rng)

    def _read(self, chunks) -> dict[str, np.ndarray]:
        """Rows of this split in ``chunks``, compact (float16 model flux)."""
        group = zarr.open_group(self.path, mode="r")
        names = ["model_flux", "flux_scale", "pixel_lo", "pixel_hi", "noise_scale", "noise_beta", "targetid",
                 *self.label_names, *(["instrument"] if "instrument" in group else []),
                 *(["artifact_key"] if self.artifacts else [])]
        parts = []
        for index in sorted(int(c) for c in chunks):
            rows = store.chunk_rows(self.n, self.chunk, index)
            part = {name: group[name][rows] for name in names}
            keep = split_of(part["targetid"], self.seed) == list(SPLITS).index(self.split)
            parts.append({k: v[keep] for k, v in part.items()})
        return {k: np.concatenate([p[k] for p in parts]) for k in names}

    def _materialise(self, rows: dict, rng: np.random.Generator) -> Batch:
        model = training_store.model_flux(rows)
        covered = training_store.covered(rows)
        noise = training_store.noise_model(rows, self.sky, self.object)
        seed = rng.integers(2**63) if self.training else [self.seed, int(rows["targetid"][0]), 11]
        if self.artifacts or self.native:
            flux, ivar = self._observe_by_instrument(rows, model, noise, covered, seed)
        else:
            flux, ivar = observe(model, noise, covered, seed)
        labels = {name: rows[name].astype(np.float32) for name in self.label_names}
        inputs = self.transform(flux, ivar) if self.transform else None
        return Batch(flux, ivar, labels, rows["targetid"], inputs)

    def _observe_by_instrument(self, rows: dict, model, noise, covered, seed):
        """``observe`` through each row's instrument (native pixels, recorded artifacts)."""
        which = np.asarray(rows.get("instrument", np.zeros(len(model), np.int8)))
        flux, ivar = np.zeros_like(model), np.zeros_like(model)
        streams = np.random.SeedSequence(seed).spawn(len(self.instruments))
        for index, instrument in enumerate(self.instruments):
            mine = np.flatnonzero(which == index)
            if len(mine) == 0:
                continue
            # rows of one instrument share its per-pixel terms
            sky = noise.sky[mine[0]] if np.ndim(noise.sky) == 2 else noise.sky
            obj = noise.object[mine[0]] if np.ndim(noise.object) == 2 else noise.object
            part = type(noise)(noise.scale[mine], noise.beta[mine], sky, obj)
            drawn = art.draw(rows["artifact_key"][mine], instrument) if self.artifacts else None
            f, i = observe(model[mine], part, covered[mine], streams[index], drawn,
                           observing_path(instrument, self.native))
            flux[mine], ivar[mine] = f, i
        return flux, ivar


def label_stats(path, names, split: str = "train", seed: int = 0) -> dict[str, tuple[float, float]]:
    """(mean, std) of each label column over one split: the standardisation a
    network's Gaussian heads are trained with."""
    group = zarr.open_group(str(path), mode="r")
    keep = split_of(group["targetid"][:], seed) == list(SPLITS).index(split)
    out = {}
    for name in names:
        if name in group:
            values = group[name][:][keep]
            out[name] = (float(values.mean()), float(values.std()) or 1.0)
    return out


def store_classes(path) -> list[str] | None:
    """The SPECTYPE names a network's class head learns from a store: all of
    ``spectypes.SPECTYPES`` where the store has a ``spectype`` column, else None."""
    from pipeline.physics.spectypes import SPECTYPES

    return list(SPECTYPES.values()) if "spectype" in zarr.open_group(str(path), mode="r") else None
