"""Prefect flow "ingest": survey FITS files -> a survey store, over Dask.

Index tasks (one per batch of files) count the spectra and their TARGETIDs; the
flow then creates the store template and fans one task per store chunk out, each
reading the files behind its rows. Rerunning resumes: complete chunks are skipped.
Unreadable files -- at indexing, or when their chunk is written -- are listed in the
store's ``quarantine`` attribute, each with the reason (``finish``, after the chunks).
"""

from __future__ import annotations

import time

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.jobs.ingest import DEFAULT_CHUNK, IngestRequest, check, fill_chunk, finish, index_files, prepare
from flows.runtime.cluster import task_runner
from flows.runtime.progress import Progress, collect
from storage import store

#: Files per index task: opening a FITS file costs milliseconds, a task ~0.2 s.
INDEX_BATCH = 256


@task(name="index-files", cache_policy=NO_CACHE, persist_result=False)
def index_batch(paths: list[str], format: str) -> list[dict]:
    return index_files(paths, format)


@task(name="ingest-chunk", task_run_name="chunk-{index}", cache_policy=NO_CACHE, persist_result=False)
def ingest_chunk(path: str, index: int) -> dict:
    return fill_chunk(path, index)


@flow(name="ingest", flow_run_name="ingest-{n_files}-files", persist_result=False)
def ingest(files: list[str], out: str, format: str = "auto", chunk: int = DEFAULT_CHUNK, overwrite: bool = False,
           n_files: int = 0, progress_bar: bool = True) -> dict:
    """Ingest ``files`` into the survey store ``out``; returns a summary."""
    request = IngestRequest(tuple(files), out, format, chunk)
    index = []
    if check(request, overwrite) == "create":
        batches = [files[i:i + INDEX_BATCH] for i in range(0, len(files), INDEX_BATCH)]
        for future in [index_batch.submit(b, format) for b in batches]:
            index += future.result()
    todo = prepare(request, index, overwrite)
    n, size = store.layout(out)
    progress = Progress(store.n_chunks(n, size), store.n_chunks(n, size) - len(todo), "chunks", progress_bar)
    start = time.perf_counter()
    results, failed = collect({ingest_chunk.submit(out, i): i for i in todo}, progress)
    rows = sum(r["rows"] for r in results)
    summary = {"store": out, "spectra": n, "written_spectra": rows, "chunks": store.n_chunks(n, size),
               "quarantined": finish(out, results), "seconds": time.perf_counter() - start, "failed": failed}
    get_run_logger().info(f"ingested {n} spectra from {len(files)} files; {len(summary['quarantined'])} quarantined")
    if failed:
        raise RuntimeError(f"{len(failed)} chunk(s) failed: {failed}; rerun the same command to retry them")
    return summary


def run_ingest(request: IngestRequest, *, overwrite: bool = False, cluster: str | None = None, workers: int = 2,
               progress_bar: bool = True) -> dict:
    """Check (before anything starts), then run the flow on a Dask cluster."""
    check(request, overwrite)
    return ingest.with_options(task_runner=task_runner(cluster, workers))(
        list(request.files), request.out, request.format, request.chunk, overwrite=overwrite,
        n_files=len(request.files), progress_bar=progress_bar)
