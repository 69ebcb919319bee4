"""Scoring glue without Prefect: a survey store chunk -> a catalogue part.

The model is loaded once per process (per worker), not once per task; a part that
already exists is not redone, so a rerun after an interruption only scores what
is missing; the merge checks one row per input spectrum, in input order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.jobs.predict import predict_batches
from flows.runtime.malloc import keep_freed_memory
from pipeline.assess import columns
from pipeline.fit.by_class import fit_by_class
from pipeline.fit.templates import basis_id
from pipeline.learn.models import loaded_model, model_id
from pipeline.learn.training import read_card
from pipeline.sampling.grid import Z_MAX
from storage import catalogue, chunk_io, location, store, survey_store
from storage.provenance import code_version, dependency_versions

#: Chunks after this one that the kernel reads ahead (storage/chunk_io.py): one per
#: worker on a two-worker machine keeps the disk busy while both compute.
READ_AHEAD = 2


@dataclass(frozen=True)
class ScoreRequest:
    """Score the survey store ``store`` with the model in ``model`` into ``out``; with
    ``refine`` (the default) the network's p(z) peaks are refined by a template fit
    (``pipeline.fit``), without it the catalogue holds the network's redshifts."""

    store: str
    model: str
    out: str
    refine: bool = True

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
        location.require_writable(self.out, make_parents=True)


def score_chunk(store_path: str, model_dir: str, out_dir: str, index: int, refine: bool = True) -> dict:
    """Score chunk ``index`` into its catalogue part (skipped if the part exists).

    Returns {"chunk", "rows", "skipped", "seconds", and per stage "read_s" (store read
    and decompression), "model_s" (inputs, network, p(z) summary), "fit_s" (the template
    fit, 0 without ``refine``), "write_s" (float32 cast, catalogue columns, Parquet)}.
    """
    if location.exists(catalogue.part_path(out_dir, index)):
        return {"chunk": index, "rows": 0, "skipped": True, "seconds": 0.0}
    start = time.perf_counter()
    group = store.open_read(store_path)
    n, size = store.layout(store_path)
    upcoming = range(index + 1, min(index + 1 + READ_AHEAD, store.n_chunks(n, size)))
    chunk_io.read_ahead(group, ("flux", "ivar"), upcoming)
    keep_freed_memory()  # chunk-sized temporaries: reuse freed pages (flows/runtime/malloc.py)
    loaded = loaded_model(model_dir, group["wavelength"][:])
    data = chunk_io.read_rows(group, ("flux", "ivar", "targetid", "zwarn_input"), index)
    read = time.perf_counter()
    model_s, fit_s, parts = 0.0, 0.0, []
    for batch in predict_batches(loaded, data):
        model_s += batch.seconds
        tick = time.perf_counter()
        fit, stars = fit_by_class(batch.flux, batch.ivar, batch.prediction, loaded.task.bins, refine)
        fit_s += time.perf_counter() - tick
        parts.append(columns.rows(batch.prediction, data["targetid"][batch.rows], data["zwarn_input"][batch.rows],
                                  batch.flux, batch.ivar, loaded.card.get("z_range", [0.0, Z_MAX]), loaded.id, index,
                                  fit, stars))
    table = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    catalogue.write_part(out_dir, index, table)
    end = time.perf_counter()
    return {"chunk": index, "rows": len(data["flux"]), "skipped": False, "seconds": end - start,
            "read_s": read - start, "model_s": model_s, "fit_s": fit_s, "write_s": end - read - model_s - fit_s}


def merge(request: ScoreRequest) -> dict:
    """catalogue.parquet and catalogue.fits from the parts, with provenance."""
    group = store.open_read(request.store)
    n, size = store.layout(request.store)
    card = read_card(request.model)
    provenance = {"model_id": model_id(request.model), "model_task": card.get("task"),
                  "model_dir": str(Path(request.model).resolve()),
                  "model_card": card, "training_store": card.get("training_store", {}).get("fingerprint"),
                  "input_store": location.resolved(request.store), "input_fingerprint": store.fingerprint(request.store),
                  "quarantined_files": store.read_attrs(request.store).get("quarantine", []),
                  "refined": request.refine, "fit_basis": basis_id() if request.refine else None,
                  "code_version": code_version(), **dependency_versions()}
    return catalogue.merge(request.out, store.n_chunks(n, size), group["targetid"][:], columns.units(), provenance)
