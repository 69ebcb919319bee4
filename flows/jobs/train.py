"""Training glue without Prefect: from a store path and a network name to a model
directory (``pipeline.learn.training`` does the work, ``storage.loader`` feeds it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from flows.runtime.malloc import keep_freed_memory
from pipeline.learn.networks import make_task
from pipeline.learn.networks.default import PROPERTIES
from pipeline.learn.training import TrainConfig, fit
from storage import location, store
from storage.loader import StoreBatches, label_stats, store_classes
from storage.provenance import code_version, dependency_versions

#: Per-network defaults: the thesis recipe for ``baseline`` (batch 32), and a larger
#: batch for ``default`` (bf16 convolutions are efficient from ~128 rows).
BATCH_SIZE = {"baseline": 32, "default": 256}


@dataclass
class TrainRequest:
    """One training run: network ``model`` on the store at ``store`` into ``out``."""

    store: str
    model: str = "default"
    out: str = "models/default"
    max_minutes: float | None = None
    device: str = "auto"
    max_epochs: int = 100
    batch_size: int | None = None
    seed: int = 0
    limit: int | None = None  # spectra per epoch (quick runs and tests)
    extra: dict = field(default_factory=dict)

    def check(self) -> None:
        """Fail before any work: unknown network, missing or incomplete store, bad numbers."""
        if self.model not in BATCH_SIZE:
            raise ValueError(f"unknown network {self.model!r}; choose from {sorted(BATCH_SIZE)}")
        if not store.exists(self.store):
            raise ValueError(f"{self.store} is not a spectra store (make one with `spectroflow generate`)")
        missing = store.incomplete_chunks(self.store)
        if missing:
            raise ValueError(f"{self.store} is incomplete ({len(missing)} chunks missing); finish it with "
                             "`spectroflow generate` (same arguments) first")
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise ValueError("--max-minutes must be positive")
        location.require_writable(self.out, make_parents=True)


def finished(out, max_minutes: float | None = None) -> bool:
    """True if ``out`` holds a model whose training ended (early stopping, max epochs,
    or a time budget at least ``max_minutes``): rerunning would not train it further."""
    card_path = Path(out, "card.json")
    if not (card_path.is_file() and Path(out, "model.pt").is_file()):
        return False
    card = json.loads(card_path.read_text())
    if "stopped_by" not in card:
        return False
    budget = card.get("train_config", {}).get("max_minutes")
    return card["stopped_by"] != "time budget" or max_minutes is None or (budget or 0) >= max_minutes


class _Progress:
    """Batches with a tqdm bar per epoch; passes ``epoch`` through to the loader."""

    def __init__(self, batches, desc: str, enabled: bool):
        self.batches, self.desc, self.enabled = batches, desc, enabled
        self.total = -(-len(batches) // batches.batch_size)

    @property
    def epoch(self):
        return self.batches.epoch

    @epoch.setter
    def epoch(self, value):
        self.batches.epoch = value

    def __iter__(self):
        bar = tqdm(self.batches, total=self.total, desc=f"{self.desc} epoch {self.epoch}", unit="batch",
                   disable=not self.enabled, leave=False)
        yield from bar


def run_training(request: TrainRequest, log=print, progress_bar: bool = True) -> dict:
    """Train and return the model card (written to ``request.out/card.json``)."""
    request.check()
    keep_freed_memory()
    wavelength = store.read_array(request.store, "wavelength")
    stats = label_stats(request.store, PROPERTIES, "train", request.seed)
    task = make_task(request.model, wavelength, stats, store_classes(request.store))
    model = task.build(len(wavelength))
    batch = request.batch_size or BATCH_SIZE[request.model]
    train = StoreBatches(request.store, "train", batch, request.seed, limit=request.limit, transform=task.inputs)
    val = StoreBatches(request.store, "val", max(batch, 512), request.seed, transform=task.inputs,
                       limit=request.limit and max(request.limit // 4, 512))
    config = TrainConfig(batch_size=batch, max_epochs=request.max_epochs, max_minutes=request.max_minutes,
                         device=request.device, seed=request.seed)
    z = store.read_array(request.store, "z")
    card = {"z_range": [float(z.min()), float(z.max())], "train_split_size": len(train), "training_store": {"path": location.resolved(request.store), "fingerprint": store.fingerprint(request.store),
                               "generator": store.read_attrs(request.store).get("generator")},
            "code_version": code_version(), "dependencies": dependency_versions(), **request.extra}
    return fit(task, model, _Progress(train, request.model, progress_bar), val, config, request.out, card, log)
