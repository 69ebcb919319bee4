"""The nightly ledger and a nightly root's layout on disk.

``ROOT/nightly.json`` lists the batches of survey files processed so far, each with
its name (the UTC time its run began, ``20261201T020000Z``), its state (``pending``
until its catalogue is written, then ``done`` with its figures) and its files (path,
size, modification time). A batch's products are ``ROOT/nights/NAME/survey.zarr``
and ``ROOT/nights/NAME/catalogue``; the combined catalogue is ``ROOT/catalogue``.
The ledger is rewritten atomically (temporary file + rename): a reader sees the old
ledger or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

LEDGER = "nightly.json"
PENDING, DONE = "pending", "done"

@dataclass(frozen=True)
class BatchLayout:
    """Where a batch's survey store and catalogue live."""

    store: str
    catalogue: str


def layout(root: str, name: str) -> BatchLayout:
    """The products of batch ``name`` under ``root``."""
    night = os.path.join(root, "nights", name)
    return BatchLayout(os.path.join(night, "survey.zarr"), os.path.join(night, "catalogue"))


def combined_catalogue(root: str) -> str:
    """The combined catalogue of every batch under ``root``."""
    return os.path.join(root, "catalogue")


def file_entry(path: str) -> dict:
    """{"path" (absolute), "size" (bytes), "mtime_ns"} of a file."""
    info = os.stat(path)
    return {"path": str(Path(path).resolve()), "size": info.st_size, "mtime_ns": info.st_mtime_ns}


def read_ledger(root: str) -> dict:
    """The ledger under ``root`` ({"batches": []} if there is none yet); ValueError if damaged."""
    path = Path(root, LEDGER)
    if not path.exists():
        return {"batches": []}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); restore it or move it aside") from err


def write_ledger(root: str, ledger: dict) -> None:
    """Atomically: a reader sees the old ledger or the new one, never half of one."""
    path = Path(root, LEDGER)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(ledger, indent=1))
    os.replace(partial, path)


def finish(root: str, name: str, summary: dict) -> None:
    """Mark batch ``name`` done, with its figures (spectra, quarantined files, ...)."""
    ledger = read_ledger(root)
    for batch in ledger["batches"]:
        if batch["name"] == name:
            batch.update(state=DONE, **summary)
    write_ledger(root, ledger)


def done_batches(root: str) -> list[dict]:
    """The finished batches, in the order they were taken."""
    return [b for b in read_ledger(root)["batches"] if b["state"] == DONE]


def scored_batches(root: str) -> list[str]:
    """Names of the finished batches that have a catalogue (any spectra), in order."""
    return [b["name"] for b in done_batches(root) if b.get("spectra")]


def add_batch(root: str, ledger: dict, batch: dict) -> None:
    """Record ``batch`` (name, state, files) at the end of ``ledger`` and write it."""
    ledger["batches"].append(batch)
    write_ledger(root, ledger)
