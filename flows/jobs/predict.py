"""Read a survey-store chunk and run a model over it, batch by batch (no Prefect).

The one read-and-predict loop behind scoring (``flows.jobs.score``) and the p(z)
calibration check of evaluation (``flows.jobs.evaluate``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from pipeline.learn import inference
from pipeline.learn.models import LoadedModel
from storage import survey_store

#: Spectra per forward pass (the network is fastest from ~1,024 rows).
BATCH = 1024


@dataclass(frozen=True)
class Batch:
    """One forward pass: ``rows`` of the chunk, the network's normalised float32 ``flux``
    and ``ivar`` ((B, npix)), its ``prediction`` and the seconds the network took."""

    rows: slice
    flux: np.ndarray
    ivar: np.ndarray
    prediction: dict
    seconds: float


def predict_batches(loaded: LoadedModel, data: dict, limit: int | None = None,
                    batch: int = BATCH) -> Iterator[Batch]:
    """Run ``loaded`` over the stored ``data["flux"]``/``data["ivar"]`` (a chunk as read from
    a survey store) in passes of ``batch`` rows, the first ``limit`` rows only if given.

    The float32 inputs are cast one batch at a time into two reused buffers, so a worker
    holds the chunk as float16 plus one batch; a yielded batch's arrays are overwritten by
    the next one.
    """
    n = len(data["flux"]) if limit is None else min(limit, len(data["flux"]))
    buffers = tuple(np.empty((min(batch, n), data["flux"].shape[1]), np.float32) for _ in range(2))
    for start in range(0, n, batch):
        rows = slice(start, min(start + batch, n))
        flux, ivar = survey_store.normalised({k: data[k][rows] for k in ("flux", "ivar")}, out=buffers)
        tick = time.perf_counter()
        prediction = inference.predict(loaded.task, loaded.model, flux, ivar)
        yield Batch(rows, flux, ivar, prediction, time.perf_counter() - tick)
