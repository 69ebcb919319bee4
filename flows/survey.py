"""Prefect flow "survey": the whole story as one parent run with a subflow per stage.

generate (training store) -> train -> generate (simulated survey store) -> score ->
evaluate. Each stage is the same flow the stand-alone command runs, so the UI shows
one "survey" run with its five children, their task runs and artifacts. Everything
lives under one directory (``SurveyLayout``); a rerun reuses what is complete (the
stores, a model whose training ended, catalogue parts of the same model) unless
``fresh``.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.evaluate import evaluate
from flows.generate import generate
from flows.jobs.generate import DEFAULT_CHUNK, GenerateRequest
from flows.jobs.survey import SurveyLayout, SurveyRequest, stage_rates
from flows.jobs.train import finished
from flows.runtime.cluster import is_local, task_runner
from flows.score import local_threads, score
from flows.train import train


def _clear(request: SurveyRequest) -> None:
    """Remove the model and catalogue of an earlier run (``fresh``; stores are overwritten)."""
    for path in (request.layout.model, request.layout.catalogue):
        shutil.rmtree(path, ignore_errors=True)


@flow(name="survey", flow_run_name="survey-{root_name}", persist_result=False)
def survey(root: str = "data/demo", train_n: int = 65_536, survey_n: int = 32_768, train_minutes: float = 10.0,
           chunk: int = DEFAULT_CHUNK, seed: int = 1, fresh: bool = False, cluster: str | None = None,
           workers: int = 2, threads: int | None = None, progress_bar: bool = True, root_name: str = "demo",
           preset: str = "survey") -> dict:
    """Run every stage into ``root`` on ``cluster`` (``flows.runtime.cluster``; ``threads``: torch
    threads per scoring task); returns {stage: its summary, "seconds": {stage: s}, "layout"}."""
    request = SurveyRequest(root, train_n, survey_n, train_minutes, chunk, seed, fresh, preset)
    request.check()
    if fresh:
        _clear(request)
    layout, logger = request.layout, get_run_logger()
    training_store, survey_store = request.stores()
    runner = task_runner(cluster, workers)
    out, seconds = {}, {}

    def stage(name, run):
        start = time.perf_counter()
        out[name] = run()
        seconds[name] = time.perf_counter() - start
        logger.info(f"stage {name} done in {seconds[name]:.1f} s")

    def generate_store(req: GenerateRequest):
        return generate.with_options(task_runner=runner, flow_run_name=f"generate-{req.kind}-{req.n}")(
            req.out, req.n, req.chunk, req.seed, req.preset, req.instrument, overwrite=fresh,
            progress_bar=progress_bar, kind=req.kind)

    stage("generate_training", lambda: generate_store(training_store))
    if finished(layout.model, train_minutes):
        logger.info(f"reusing the trained model in {layout.model}")
    stage("train", lambda: _read_card(layout.model) if finished(layout.model, train_minutes) else train(
        layout.training_store, "default", layout.model, train_minutes, progress_bar=progress_bar))
    stage("generate_survey", lambda: generate_store(survey_store))
    threads = threads or (local_threads(workers) if is_local(cluster) else 1)
    stage("score", lambda: score.with_options(task_runner=runner)(
        layout.survey_store, layout.model, layout.catalogue, threads, model_name="default",
        progress_bar=progress_bar))
    stage("evaluate", lambda: evaluate(layout.catalogue, layout.survey_store, layout.model, layout.report,
                                       catalogue_name=Path(root).name))
    summary = {**out, "seconds": seconds, "layout": asdict(layout) | _paths(layout)}
    _publish(summary)
    return summary


def _read_card(model_dir: str) -> dict:
    from pipeline.learn.training import read_card

    return {**read_card(model_dir), "reused": True}


def _paths(layout: SurveyLayout) -> dict:
    return {"training_store": layout.training_store, "model": layout.model, "survey_store": layout.survey_store,
            "catalogue": layout.catalogue, "report": layout.report}


def _publish(summary: dict) -> None:
    create_table_artifact(stage_rates(summary), key="survey-stages", description="time and spectra/s per stage")
    ev = summary["evaluate"]
    create_markdown_artifact(
        f"# survey run\n\n- NMAD {ev['nmad']:.5f}, η {ev['eta']:.2%} over {ev['n']:,} spectra\n"
        f"- S/N ≥ 5: η {ev['eta_snr5']:.2%} ({ev['n_snr5']:,} spectra)\n"
        f"- report: `{ev['report']['html']}`\n", key="survey-summary", description="headline figures")
