"""Prefect flow "train": one task that trains a network on a training store.

The task carries the ``gpu`` tag (route it to a GPU work pool in a deployment) and,
on a Dask cluster whose workers advertise a ``GPU`` resource, requests ``GPU=1``;
anywhere else it runs on the CPU. The device is chosen inside the task ("auto":
CUDA when present), so the same code runs on both.
"""

from __future__ import annotations

from dataclasses import asdict

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.jobs.train import TrainRequest, run_training
from flows.runtime.cluster import gpu_annotation


@task(name="fit-network", tags=["gpu"], cache_policy=NO_CACHE, persist_result=False)
def fit_network(request: dict, progress_bar: bool = True) -> dict:
    """Train as ``TrainRequest(**request)`` says; returns the model card."""
    logger = get_run_logger()
    return run_training(TrainRequest(**request), log=logger.info, progress_bar=progress_bar)


@flow(name="train", flow_run_name="train-{model}", persist_result=False)
def train(store: str, model: str = "default", out: str = "models/default", max_minutes: float | None = None,
          device: str = "auto", max_epochs: int = 100, batch_size: int | None = None, seed: int = 0,
          limit: int | None = None, progress_bar: bool = True) -> dict:
    """Train network ``model`` on ``store`` into ``out``; returns the model card."""
    request = TrainRequest(store, model, out, max_minutes, device, max_epochs, batch_size, seed, limit)
    request.check()
    with gpu_annotation():
        card = fit_network.submit(asdict(request), progress_bar).result()
    get_run_logger().info(f"trained {model}: {card['epochs']} epochs, best {card['best_epoch']}, "
                          f"validation {card['val_metrics']}")
    return card
