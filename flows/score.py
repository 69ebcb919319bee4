"""Prefect flow "score": map a model over a survey store, one task per chunk.

Each task writes one catalogue part (Parquet, atomic rename); parts already there
are skipped, so a rerun after an interruption scores only what is missing; a final
task merges the parts into catalogue.parquet and catalogue.fits. The model is
loaded once per worker process (``flows.jobs.score``).
"""

from __future__ import annotations

import os
import time

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.jobs.score import ScoreRequest, merge, score_chunk
from flows.runtime.cluster import gpu_annotation, is_local, task_runner
from flows.runtime.progress import Progress, collect
from pipeline.assess.zwarning import zwarn_counts
from pipeline.fit.templates import basis_id
from pipeline.learn.models import model_id
from storage import catalogue, store


@task(name="score-chunk", task_run_name="chunk-{index}", tags=["gpu"], cache_policy=NO_CACHE, persist_result=False)
def score_part(store_path: str, model_dir: str, out_dir: str, index: int, threads: int, refine: bool = True) -> dict:
    import torch

    torch.set_num_threads(threads)
    return score_chunk(store_path, model_dir, out_dir, index, refine)


@task(name="merge-catalogue", cache_policy=NO_CACHE, persist_result=False)
def merge_parts(request: dict) -> dict:
    return merge(ScoreRequest(**request))


@flow(name="score", flow_run_name="score-{model_name}", persist_result=False)
def score(store_path: str, model_dir: str, out_dir: str, threads: int = 1, model_name: str = "model",
          progress_bar: bool = True, refine: bool = True) -> dict:
    """Score ``store_path`` with ``model_dir`` into ``out_dir``; returns a summary."""
    request = ScoreRequest(store_path, model_dir, out_dir, refine)
    request.check()
    n, size = store.layout(store_path)
    source = {"model_id": model_id(model_dir), "input_fingerprint": store.fingerprint(store_path),
              "refine": basis_id() if refine else None}
    if catalogue.claim_parts(out_dir, source):
        get_run_logger().warning(f"{out_dir} held parts from another model or input store: scoring everything again")
    todo = catalogue.missing_parts(out_dir, store.n_chunks(n, size))
    progress = Progress(store.n_chunks(n, size), store.n_chunks(n, size) - len(todo), "chunks", progress_bar)
    start = time.perf_counter()
    with gpu_annotation():  # chunks go to GPU workers when the cluster has them
        futures = {score_part.submit(store_path, model_dir, out_dir, i, threads, refine): i for i in todo}
    results, failed = collect(futures, progress)
    rows = sum(r["rows"] for r in results)
    if failed:
        raise RuntimeError(f"{len(failed)} chunk(s) failed: {failed}; rerun the same command to retry them")
    merge_start = time.perf_counter()
    merged = merge_parts.submit(request.__dict__).result()
    seconds = time.perf_counter() - start
    merge_s = time.perf_counter() - merge_start
    zwarn = catalogue.read(out_dir, ["ZWARN"])["ZWARN"]
    summary = {"catalogue": merged["paths"], "rows": merged["rows"], "scored_now": rows, "seconds": seconds,
               "spectra_per_s": rows / seconds if seconds > 0 else 0.0, "zwarn": zwarn_counts(zwarn),
               "stages": {k: sum(r.get(f"{k}_s", 0.0) for r in results) for k in ("read", "model", "fit", "write")},
               "merge_s": merge_s}
    get_run_logger().info(f"catalogue of {merged['rows']} rows; ZWARN {summary['zwarn']}")
    return summary


def local_threads(workers: int) -> int:
    """Torch threads per worker when ``workers`` share this machine's cores."""
    return max(1, (os.cpu_count() or 1) // workers)


def run_score(request: ScoreRequest, *, cluster: str | None = None, workers: int = 2,
              progress_bar: bool = True, threads: int | None = None) -> dict:
    """Check (before anything starts), then run the flow on a Dask cluster. ``threads``
    (torch threads per task) defaults to sharing the cores for a local cluster, else 1."""
    request.check()
    if threads is None:
        threads = local_threads(workers) if is_local(cluster) else 1
    return score.with_options(task_runner=task_runner(cluster, workers))(
        request.store, request.model, request.out, threads, model_name=request.model.rstrip("/").split("/")[-1],
        progress_bar=progress_bar, refine=request.refine)
