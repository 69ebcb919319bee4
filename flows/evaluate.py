"""Prefect flow "evaluate": a catalogue + the truth -> figures, a report, UI artifacts.

Tasks: the PIT sample (the model run again on a few thousand spectra), the figures,
and the report. Every table and figure is also published as a Prefect artifact, so
the results show on the flow run's page in the UI (images embedded as data URLs:
the UI cannot reach files on the machine that ran the flow).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_image_artifact,
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE

from flows.jobs.evaluate import EvaluateRequest, build_report, draw_figures, load, pit_values
from pipeline.assess import report as reports
from storage import catalogue as catalogues


@task(name="pit-sample", cache_policy=NO_CACHE, persist_result=False)
def pit_sample(store: str, model: str, refined: bool = False):
    return pit_values(store, model, refined)


@task(name="figures", cache_policy=NO_CACHE, persist_result=False)
def figures_task(cat: dict, truth: dict, pit, out: str) -> dict:
    return draw_figures(cat, truth, pit, Path(out))


@task(name="report", cache_policy=NO_CACHE, persist_result=False)
def report_task(request: dict, cat: dict, truth: dict, pit, paths: dict) -> dict:
    report, head = build_report(EvaluateRequest(**request), cat, truth, pit, paths)
    written = reports.write(report, request["out"])
    publish(report, written)
    return {**head, "report": {k: str(v) for k, v in written.items()},
            "figures": [str(p) for p in paths.values()]}


def publish(report: reports.Report, written: dict) -> None:
    """The report as artifacts of the running flow: headline markdown, one table per
    table, one image per figure, and a link to the HTML report."""
    lines = "\n".join(f"- {line}" for line in report.lines)
    create_markdown_artifact(f"# {report.title}\n\n{lines}\n\nReport: `{written['html']}`",
                             key="evaluation-summary", description="headline figures")
    for title, (rows, columns) in report.tables.items():
        create_table_artifact(reports.plain_rows(rows, columns), key=artifact_key("eval", title), description=title)
    for i, (caption, path) in enumerate(report.figures.items()):
        create_image_artifact(reports.data_url(path), key=f"eval-figure-{i}", description=caption)
    create_link_artifact(Path(written["html"]).resolve().as_uri(), link_text="evaluation report (HTML)",
                         key="evaluation-report", description=str(written["html"]))


def artifact_key(prefix: str, title: str) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes) from a title."""
    return f"{prefix}-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].rstrip("-")


@flow(name="evaluate", flow_run_name="evaluate-{catalogue_name}", persist_result=False)
def evaluate(catalogue: str, store: str | None = None, model: str | None = None, out: str | None = None,
             catalogue_name: str = "catalogue") -> dict:
    """Evaluate ``catalogue`` against the truth in its survey store; returns the headline
    figures and the paths of the report and figures."""
    request = EvaluateRequest(catalogue, store, model, out).resolved()
    Path(request.out).mkdir(parents=True, exist_ok=True)
    cat, truth = load(request)
    refined = bool(catalogues.provenance(request.catalogue).get("refined"))
    pit = pit_sample.submit(request.store, request.model, refined).result() if request.model else None
    paths = figures_task.submit(cat, truth, pit, request.out).result()
    summary = report_task.submit(asdict(request), cat, truth, pit, paths).result()
    get_run_logger().info(f"NMAD {summary['nmad']:.5f}, eta {summary['eta']:.2%}; S/N >= 5: eta "
                          f"{summary['eta_snr5']:.2%}; report {summary['report']['html']}")
    return summary


def run_evaluate(request: EvaluateRequest) -> dict:
    """Check (before anything starts), then run the flow."""
    request = request.resolved()
    return evaluate(request.catalogue, request.store, request.model, request.out,
                    catalogue_name=Path(request.catalogue).name)
