"""End to end: `spectroflow survey` (small) against a real Prefect server, checked
through the Prefect API and in the Prefect UI with a headless Chromium."""

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from prefect_client import api, artifacts, flow_run, subflow_runs

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
STAGES = {"generate-training-2048", "train-default", "generate-survey-1024", "score-default", "evaluate-run"}


def _survey_cli(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "survey", "--dir", str(root), "--train-n", "2048", "--survey-n", "1024",
         "--chunk", "512", "--train-minutes", "0.15"],
        cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def survey_run(prefect_api, tmp_path_factory):
    """(the CLI's result, its directory) of one small survey run named survey-run."""
    root = tmp_path_factory.mktemp("survey") / "run"
    result = _survey_cli(root)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, root


def test_survey_cli_prints_the_summary_and_writes_every_product(survey_run):
    result, root = survey_run
    out = result.stdout
    assert "Prefect UI: http://127.0.0.1:" in out and "Dask dashboard: http://" in out
    # the demo's survey preset has sky fibres, which have no redshift to score
    assert re.search(r"redshifts of [\d,]+ survey spectra: NMAD", out)
    for text in ("classes: GALAXY completeness", "QSO completeness", "S/N ≥ 5", "ZWARN:", "generate_training",
                 "score", "evaluate", "report (HTML)"):
        assert text in out
    for product in ("train.zarr", "survey.zarr", "model/model.pt", "catalogue/catalogue.parquet",
                    "catalogue/catalogue.fits", "catalogue/report/report.html", "catalogue/report/report.md",
                    "catalogue/report/redshift.png", "catalogue/report/pit.png", "catalogue/report/ism.png"):
        assert (root / product).exists(), product


def test_the_api_shows_the_run_its_subflows_and_artifacts(survey_run):
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    parent = flow_run("survey-run")
    assert parent.state.is_completed()
    children = subflow_runs(parent.id)
    assert {run.name for run in children} == STAGES
    assert all(run.state.is_completed() for run in children)
    evaluate = next(run for run in children if run.name == "evaluate-run")
    found = artifacts(evaluate.id)
    assert {"evaluation-summary", "eval-redshift-by-true-z", "eval-ism-properties", "evaluation-report",
            "eval-figure-0"} <= set(found)
    assert found["eval-figure-0"].type == "image" and found["eval-figure-0"].data.startswith("data:image/png;base64,")
    assert "NMAD" in found["evaluation-summary"].data
    assert {"survey-stages", "survey-summary"} <= set(artifacts(parent.id))
    score = next(run for run in children if run.name == "score-default")
    task_runs = api(lambda c: c.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[score.id]))))
    assert sorted(t.name for t in task_runs if t.name.startswith("chunk-")) == ["chunk-0", "chunk-1"]


def test_a_second_run_reuses_stores_model_and_catalogue(survey_run):
    _, root = survey_run
    model_mtime = (root / "model" / "model.pt").stat().st_mtime_ns
    result = _survey_cli(root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "(reused)" in result.stdout and "reused" in result.stdout.split("generate_training")[1].splitlines()[0]
    assert (root / "model" / "model.pt").stat().st_mtime_ns == model_mtime


def test_the_prefect_ui_shows_the_run_completed_in_a_headless_browser(survey_run, prefect_api, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it with apt)")
    run = flow_run("survey-run")
    url = f"{prefect_api.removesuffix('/api')}/runs/flow-run/{run.id}"
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000", "--window-size=1400,1000"]
    screenshot = tmp_path / "run.png"
    dom = _browse(common + ["--dump-dom", url])
    _browse(common + [f"--screenshot={screenshot}", url])
    (tmp_path / "run.html").write_text(dom)
    assert "survey-run" in dom and "Completed" in dom, f"see {screenshot} and {tmp_path / 'run.html'}"
    assert "Subflow Runs" in dom  # the run page, not an error page (the graph itself is a canvas)
    assert screenshot.stat().st_size > 10_000


def _browse(command: list[str]) -> str:
    """Run Chromium in its own process group; always kill the group (its helpers too)."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=120)
        return out
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
