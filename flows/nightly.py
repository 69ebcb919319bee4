"""Prefect flow "nightly": ingest and score the survey files that arrived since the last run.

One parent run per night with two subflows, ``ingest-NAME`` and ``score-NAME``, on one
Dask task runner, then a task that rebuilds the survey's combined catalogue. Which
files are new, the batch names and the ledger are in ``flows.jobs.nightly``. A run with
no new files ends at once (and says which files are still settling); a run that was
cut off is finished by the next.
"""

from __future__ import annotations

import time

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.ingest import ingest
from flows.jobs.ingest import DEFAULT_CHUNK, NothingReadable
from flows.jobs.nightly import NightlyRequest, begin, combine, combined_is_current
from flows.runtime.cluster import default_workers, is_local, task_runner
from flows.score import local_threads, score
from pipeline.learn.models import model_id
from storage.ledger import finish, layout, read_ledger
from storage.provenance import code_version


@task(name="combine-catalogue", cache_policy=NO_CACHE, persist_result=False)
def combine_nights(root: str, model_dir: str) -> dict:
    return combine(root, {"model_id": model_id(model_dir), "code_version": code_version()})


@flow(name="nightly", flow_run_name="nightly-{root_name}", persist_result=False)
def nightly(incoming: list[str], root: str, model_dir: str, format: str = "auto", chunk: int = DEFAULT_CHUNK,
            settle_s: float = 60.0, cluster: str | None = None, workers: int | None = None,
            progress_bar: bool = True, root_name: str = "survey") -> dict:
    """Process the new files among ``incoming`` (paths or globs) under ``root`` with the
    model in ``model_dir``; returns {"batch", "files", "spectra", "quarantined",
    "settling", "catalogue" (combined rows and paths), "seconds"}."""
    request = NightlyRequest(tuple(incoming), root, model_dir, format, chunk, settle_s)
    request.check()
    logger, start = get_run_logger(), time.perf_counter()
    batch, settling = begin(request)
    if settling:
        logger.info(f"{len(settling)} file(s) modified in the last {settle_s:g} s wait for the next run")
    summary = {"batch": None, "files": 0, "spectra": 0, "quarantined": [], "settling": settling}
    if batch is not None:
        summary.update(_process(request, batch, cluster, workers or default_workers(), progress_bar))
    else:
        logger.info("no new files")
    if not combined_is_current(root):
        summary["catalogue"] = combine_nights.submit(root, model_dir).result()
        logger.info(f"combined catalogue: {summary['catalogue']['rows']:,} rows")
    summary["seconds"] = time.perf_counter() - start
    _publish(root, summary)
    return summary


def _process(request: NightlyRequest, batch: dict, cluster, workers: int, progress_bar: bool) -> dict:
    """Ingest and score one batch, then record it done; returns its figures."""
    logger, name = get_run_logger(), batch["name"]
    paths = layout(request.root, name)
    files = [f["path"] for f in batch["files"]]
    logger.info(f"batch {name}: {len(files)} new file(s)")
    runner = task_runner(cluster, workers)
    try:
        ingested = ingest.with_options(task_runner=runner, flow_run_name=f"ingest-{name}")(
            files, paths.store, request.format, request.chunk, n_files=len(files), progress_bar=progress_bar)
    except NothingReadable as err:  # recorded, so the next run does not try the same files again
        logger.warning(f"batch {name}: {err}")
        figures = {"spectra": 0, "quarantined": err.quarantine}
    else:
        threads = local_threads(workers) if is_local(cluster) else 1
        scored = score.with_options(task_runner=runner, flow_run_name=f"score-{name}")(
            paths.store, request.model, paths.catalogue, threads, progress_bar=progress_bar)
        figures = {"spectra": ingested["spectra"], "quarantined": ingested["quarantined"], "zwarn": scored["zwarn"]}
    finish(request.root, name, figures)
    return {"batch": name, "files": len(files), **figures}


def _publish(root: str, summary: dict) -> None:
    rows = [{"batch": b["name"], "files": len(b["files"]), "spectra": b.get("spectra", 0),
             "quarantined": len(b.get("quarantined", [])), "state": b["state"]}
            for b in read_ledger(root)["batches"]]
    create_table_artifact(rows, key="nightly-batches", description="every batch of survey files processed")
    lines = [f"# nightly run: batch {summary['batch'] or '(none: no new files)'}", "",
             f"- new files: {summary['files']}, spectra: {summary['spectra']:,}, "
             f"quarantined files: {len(summary['quarantined'])}, still settling: {len(summary['settling'])}"]
    lines += [f"  - quarantined: {q['error']}" for q in summary["quarantined"][:20]]
    if "catalogue" in summary:
        lines.append(f"- combined catalogue: {summary['catalogue']['rows']:,} rows "
                     f"({summary['catalogue']['duplicates']:,} with a repeated TARGETID): "
                     f"`{summary['catalogue']['paths'][0]}`")
    create_markdown_artifact("\n".join(lines), key="nightly-summary", description="this run's batch")
