"""Scoring glue without Prefect: a survey store chunk -> a catalogue part.

The model is loaded once per process (per worker), not once per task; a part that
already exists is not redone, so a rerun after an interruption only scores what
is missing; the merge checks one row per input spectrum, in input order.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr

from flows.runtime.malloc import keep_freed_memory
from pipeline.assess import columns
from pipeline.learn import inference
from pipeline.learn.networks import build_from_card, task_from_card
from pipeline.learn.training import load_model, read_card, resolve_device
from pipeline.sampling.grid import Z_MAX
from storage import catalogue, chunk_io, location, store, survey_store
from storage.provenance import code_version, dependency_versions

#: Spectra per forward pass (the network is fastest from ~1,024 rows).
BATCH = 1024
#: Chunks after this one that the kernel reads ahead (storage/chunk_io.py): one per
#: worker on a two-worker machine keeps the disk busy while both compute.
READ_AHEAD = 2
_MODELS: dict = {}


@dataclass(frozen=True)
class ScoreRequest:
    """Score the survey store ``store`` with the model in ``model`` into ``out``."""

    store: str
    model: str
    out: str

    def check(self) -> None:
        """Fail before any work: not a survey store, incomplete, unreadable model."""
        if not store.exists(self.store):
            raise ValueError(f"{self.store} is not a store (make one with `spectroflow ingest`)")
        kind = store.read_attrs(self.store).get("store", {}).get("kind")
        if kind != survey_store.KIND:
            raise ValueError(f"{self.store} is a {kind} store; score a survey store (`spectroflow ingest`)")
        if store.incomplete_chunks(self.store):
            raise ValueError(f"{self.store} is incomplete; finish it with `spectroflow ingest` (same files)")
        read_card(self.model)  # CheckpointError (a ValueError) names the file
        if location.is_url(self.out):
            return
        existing = Path(self.out) if Path(self.out).exists() else next(
            p for p in Path(self.out).absolute().parents if p.exists())
        if not existing.is_dir():
            raise ValueError(f"cannot write {self.out}: {existing} is not a directory")


def model_id(model_dir) -> str:
    card = read_card(model_dir)
    digest = hashlib.sha256(Path(model_dir, "model.pt").read_bytes()).hexdigest()[:12]
    return f"{card['task']}-{digest}"


def loaded_model(model_dir: str, wavelength: np.ndarray):
    """(task, model, card, id) for ``model_dir``, loaded once per process."""
    key = (str(Path(model_dir).resolve()), Path(model_dir, "model.pt").stat().st_mtime_ns)
    if key not in _MODELS:
        keep_freed_memory()  # chunk-sized temporaries: reuse freed pages (flows/runtime/malloc.py)
        model, card = load_model(model_dir, build_from_card, device=resolve_device("auto"))  # CUDA if present
        _MODELS[key] = (task_from_card(card, wavelength), model, card, model_id(model_dir))
    return _MODELS[key]


def score_chunk(store_path: str, model_dir: str, out_dir: str, index: int) -> dict:
    """Score chunk ``index`` into its catalogue part (skipped if the part exists).

    Returns {"chunk", "rows", "skipped", "seconds", and per stage "read_s" (store read
    and decompression), "model_s" (inputs, network, p(z) summary), "write_s" (float32
    cast, catalogue columns, Parquet)}.
    """
    if location.exists(catalogue.part_path(out_dir, index)):
        return {"chunk": index, "rows": 0, "skipped": True, "seconds": 0.0}
    start = time.perf_counter()
    group = zarr.open_group(store_path, mode="r")
    n, size = store.layout(store_path)
    upcoming = range(index + 1, min(index + 1 + READ_AHEAD, store.n_chunks(n, size)))
    chunk_io.read_ahead(group, ("flux", "ivar"), upcoming)
    task, model, card, mid = loaded_model(model_dir, group["wavelength"][:])
    data = chunk_io.read_rows(group, ("flux", "ivar", "targetid", "zwarn_input"), index)
    read = time.perf_counter()
    model_s, parts = 0.0, []
    # float32 one batch at a time: a worker holds the chunk as float16 plus one batch
    buffers = tuple(np.empty((BATCH, data["flux"].shape[1]), np.float32) for _ in range(2))
    for b in range(0, len(data["flux"]), BATCH):
        flux, ivar = survey_store.normalised({k: data[k][b:b + BATCH] for k in ("flux", "ivar")}, out=buffers)
        tick = time.perf_counter()
        pred = inference.predict(task, model, flux, ivar)
        model_s += time.perf_counter() - tick
        parts.append(columns.rows(pred, data["targetid"][b:b + BATCH], data["zwarn_input"][b:b + BATCH], flux,
                                  ivar, card.get("z_range", [0.0, Z_MAX]), mid, index))
    table = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    catalogue.write_part(out_dir, index, table)
    end = time.perf_counter()
    return {"chunk": index, "rows": len(data["flux"]), "skipped": False, "seconds": end - start,
            "read_s": read - start, "model_s": model_s, "write_s": end - read - model_s}


def merge(request: ScoreRequest) -> dict:
    """catalogue.parquet and catalogue.fits from the parts, with provenance."""
    group = zarr.open_group(request.store, mode="r")
    n, size = store.layout(request.store)
    card = read_card(request.model)
    provenance = {"model_id": model_id(request.model), "model_task": card.get("task"),
                  "model_dir": str(Path(request.model).resolve()),
                  "model_card": card, "training_store": card.get("training_store", {}).get("fingerprint"),
                  "input_store": location.resolved(request.store), "input_fingerprint": store.fingerprint(request.store),
                  "quarantined_files": store.read_attrs(request.store).get("quarantine", []),
                  "code_version": code_version(), **dependency_versions()}
    return catalogue.merge(request.out, store.n_chunks(n, size), group["targetid"][:], columns.units(), provenance)
