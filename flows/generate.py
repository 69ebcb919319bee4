"""Prefect flow "generate": synthetic training spectra into a Zarr store over Dask.

One task per store chunk (thousands of spectra); a task gets the store path and a
chunk index, never arrays, and calls ``generation.fill_chunk``. Chunks already
recorded complete are skipped, so rerunning an interrupted run finishes it, and a
chunk Dask recomputes after a worker death rewrites the same bytes.
"""

from __future__ import annotations

import os
import resource
import time

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.jobs.generate import DEFAULT_CHUNK, GenerateRequest, check, fill_chunk, prepare
from flows.runtime.cluster import task_runner
from flows.runtime.progress import Progress, collect
from storage import store


@task(name="generate-chunk", task_run_name="chunk-{index}", cache_policy=NO_CACHE, persist_result=False)
def generate_chunk(path: str, index: int) -> dict:
    """Render and write chunk ``index`` of the store at ``path``."""
    import numcodecs
    import torch

    numcodecs.blosc.set_nthreads(1)  # the Dask workers are the parallelism
    torch.set_num_threads(1)
    started, cpu0, th0 = time.time(), time.process_time(), time.thread_time()
    result = fill_chunk(path, index)
    result["cpu"], result["thread_cpu"] = time.process_time() - cpu0, time.thread_time() - th0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {**result, "worker": os.getpid(), "peak_rss_mb": peak_mb, "started": started, "ended": time.time()}


@flow(name="generate", flow_run_name="generate-{kind}-{n}", persist_result=False)
def generate(out: str, n: int, chunk: int = DEFAULT_CHUNK, seed: int | None = None, preset: str = "default",
             instrument: str = "deimos", overwrite: bool = False, progress_bar: bool = True,
             kind: str = "training") -> dict:
    """Fill the store at ``out`` with ``n`` spectra (a ``kind`` store: "training" or a
    simulated "survey"); returns a summary dict.

    Raises RuntimeError naming the failed chunks if any task failed (the others are
    kept: rerun to finish).
    """
    request = GenerateRequest(out, n, chunk, seed, preset, instrument, kind)
    todo = prepare(request, overwrite)
    progress = Progress(request.n_chunks, request.n_chunks - len(todo), "chunks", progress_bar)
    start, submitted = time.perf_counter(), time.time()
    results, failed = collect({generate_chunk.submit(out, i): i for i in todo}, progress)
    rows = sum(r["rows"] for r in results)
    timeline = [(r["worker"], r["started"], r["ended"], r["cpu"], r["thread_cpu"]) for r in results]
    peak_mb = {}
    for r in results:
        peak_mb[r["worker"]] = max(peak_mb.get(r["worker"], 0.0), r["peak_rss_mb"])
    seconds = time.perf_counter() - start
    summary = {
        "store": out, "n": request.n, "chunks": request.n_chunks, "written_chunks": len(todo) - len(failed),
        "skipped_chunks": request.n_chunks - len(todo), "written_spectra": rows, "seconds": seconds,
        "spectra_per_s": rows / seconds if seconds > 0 else 0.0, "bytes": store.store_size_bytes(out),
        "failed": failed, "peak_rss_mb_per_worker": sorted(peak_mb.values()),
        "timeline": sorted(timeline, key=lambda t: t[1]), "submitted": submitted,
    }
    if failed:
        raise RuntimeError(f"{len(failed)} chunk(s) failed: {failed}; rerun the same command to retry them")
    return summary


def run_generate(request: GenerateRequest, *, overwrite: bool = False, cluster: str | None = None,
                 workers: int = 2, progress_bar: bool = True) -> dict:
    """Check ``request`` (fails before anything starts), then run the flow on a Dask
    cluster (``flows.runtime.cluster``). A complete store is left alone unless ``overwrite``."""
    action = check(request, overwrite)
    if action == "complete":
        return {"store": request.out, "n": request.n, "chunks": request.n_chunks, "written_chunks": 0,
                "skipped_chunks": request.n_chunks, "written_spectra": 0, "seconds": 0.0,
                "spectra_per_s": 0.0, "bytes": store.store_size_bytes(request.out), "failed": {},
                "already_complete": True}
    runner = task_runner(cluster, workers)
    return generate.with_options(task_runner=runner)(
        request.out, request.n, request.chunk, request.seed, request.preset, request.instrument,
        overwrite=overwrite, progress_bar=progress_bar, kind=request.kind,
    )
