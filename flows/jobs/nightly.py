"""Nightly processing without Prefect: which incoming files are new, and the ledger.

A survey writes new FITS files into an incoming area every night. Each run takes the
files it has not processed yet as one *batch* (named by the UTC time it began,
``20261201T020000Z``), ingests them into ``ROOT/nights/NAME/survey.zarr``, scores that
into ``ROOT/nights/NAME/catalogue`` and rebuilds ``ROOT/catalogue`` from every batch's
catalogue (a BATCH column says which; a target seen again gets DUPLICATE_TARGETID).

The ledger, ``ROOT/nightly.json``, lists the batches and their files (path, size,
modification time): a file is new when no batch holds it with that size and time, so
a file rewritten since (a truncated transfer made good) is taken again. Files modified
less than ``settle_s`` ago may still be arriving and wait for the next run. A batch
stays ``pending`` until its catalogue is written: a run that was cut off is finished
by the next one, with the same files, before new files are taken.
"""

from __future__ import annotations

import glob
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from flows.jobs.ingest import DEFAULT_CHUNK
from storage import catalogue, location
from storage.ledger import PENDING, add_batch, combined_catalogue, file_entry, layout, read_ledger, scored_batches


@dataclass(frozen=True)
class NightlyRequest:
    """Process the new files among ``incoming`` (paths or glob patterns) under ``root``."""

    incoming: tuple[str, ...]
    root: str
    model: str
    format: str = "auto"
    chunk: int = DEFAULT_CHUNK
    settle_s: float = 60.0

    def __post_init__(self):
        object.__setattr__(self, "incoming", tuple(str(p) for p in self.incoming))
        if not self.incoming:
            raise ValueError("no incoming files or patterns given")
        if self.settle_s < 0:
            raise ValueError(f"--settle must be at least 0 s, got {self.settle_s}")
        if self.chunk < 1:
            raise ValueError(f"--chunk must be at least 1, got {self.chunk}")

    def check(self) -> None:
        """Fail before any work: a root that cannot be written, a damaged ledger."""
        location.require_writable(self.root, make_parents=True)
        read_ledger(self.root)


def matching(patterns) -> list[str]:
    """Files matching ``patterns`` (paths or globs), sorted, each once; none is not an error."""
    found = set()
    for pattern in patterns:
        found.update(p for p in glob.glob(str(pattern)) if os.path.isfile(p))
    return sorted(found)


def new_files(request: NightlyRequest, ledger: dict, now: float | None = None) -> tuple[list[dict], list[str]]:
    """(entries of the files to take now, paths still settling) among the incoming files."""
    now = time.time() if now is None else now
    seen = {(f["path"], f["size"], f["mtime_ns"]) for b in ledger["batches"] for f in b["files"]}
    take, settling = [], []
    for path in matching(request.incoming):
        entry = file_entry(path)
        if (entry["path"], entry["size"], entry["mtime_ns"]) in seen:
            continue
        if now - entry["mtime_ns"] / 1e9 < request.settle_s:
            settling.append(entry["path"])
        else:
            take.append(entry)
    return take, settling


def begin(request: NightlyRequest, now: float | None = None) -> tuple[dict | None, list[str]]:
    """(the batch to process, paths still settling): the pending batch of a run that
    was cut off, else a new batch of the new files (recorded as pending), else None."""
    ledger = read_ledger(request.root)
    pending = [b for b in ledger["batches"] if b["state"] == PENDING]
    if pending:
        return _with_directory(request.root, pending[0]), []
    take, settling = new_files(request, ledger, now)
    if not take:
        return None, settling
    stamp = datetime.fromtimestamp(time.time() if now is None else now, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    names = {b["name"] for b in ledger["batches"]}
    name = stamp if stamp not in names else f"{stamp}-{len(names)}"
    batch = {"name": name, "state": PENDING, "files": take}
    add_batch(request.root, ledger, batch)
    return _with_directory(request.root, batch), settling


def _with_directory(root: str, batch: dict) -> dict:
    """``batch``, once its directory exists (the flows write into it, they do not make it)."""
    Path(layout(root, batch["name"]).store).parent.mkdir(parents=True, exist_ok=True)
    return batch


def combined_is_current(root: str) -> bool:
    """True if ``ROOT/catalogue`` holds exactly the scored batches (or there are none)."""
    names = scored_batches(root)
    if not names:
        return True
    try:
        return catalogue.provenance(combined_catalogue(root)).get("batches") == names
    except (ValueError, OSError):  # not built yet
        return False


def combine(root: str, provenance: dict) -> dict:
    """Rebuild ``ROOT/catalogue`` from the catalogues of the scored batches, in order."""
    names = scored_batches(root)
    sources = [(name, layout(root, name).catalogue) for name in names]
    return catalogue.combine(combined_catalogue(root), sources, {**provenance, "batches": names})
