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
from prefect.futures import as_completed

from storage import store

from .cluster import task_runner
from .generation import DEFAULT_CHUNK, GenerateRequest, check, fill_chunk, prepare
from .progress import Progress


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


@flow(name="generate", flow_run_name="generate-{preset}-{n}", persist_result=False)
def generate(out: str, n: int, chunk: int = DEFAULT_CHUNK, seed: int = 0, preset: str = "default",
             instrument: str = "deimos", overwrite: bool = False, progress_bar: bool = True) -> dict:
    """Fill the store at ``out`` with ``n`` spectra; returns a summary dict.

    Raises RuntimeError naming the failed chunks if any task failed (the others are
    kept: rerun to finish).
    """
    request = GenerateRequest(out, n, chunk, seed, preset, instrument)
    todo = prepare(request, overwrite)
    progress = Progress(request.n_chunks, request.n_chunks - len(todo), "chunks", progress_bar)
    start, submitted = time.perf_counter(), time.time()
    futures = {generate_chunk.submit(out, i): i for i in todo}
    failed, rows, peak_mb, timeline = {}, 0, {}, []
    for future in as_completed(list(futures)):
        try:
            result = future.result()
        except Exception as err:  # one bad chunk must not stop the others
            failed[futures[future]] = f"{type(err).__name__}: {err}"
            continue
        rows += result["rows"]
        timeline.append((result["worker"], result["started"], result["ended"], result["cpu"], result["thread_cpu"]))
        peak_mb[result["worker"]] = max(peak_mb.get(result["worker"], 0.0), result["peak_rss_mb"])
        progress.advance(items=result["rows"])
    progress.close()
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
    cluster (``flows.cluster``). A complete store is left alone unless ``overwrite``."""
    action = check(request, overwrite)
    if action == "complete":
        return {"store": request.out, "n": request.n, "chunks": request.n_chunks, "written_chunks": 0,
                "skipped_chunks": request.n_chunks, "written_spectra": 0, "seconds": 0.0,
                "spectra_per_s": 0.0, "bytes": store.store_size_bytes(request.out), "failed": {},
                "already_complete": True}
    runner = task_runner(cluster, workers)
    return generate.with_options(task_runner=runner)(
        request.out, request.n, request.chunk, request.seed, request.preset, request.instrument,
        overwrite=overwrite, progress_bar=progress_bar,
    )
