"""`prefect deploy --all` from deploy/prefect.yaml against a real server, and one
deployment run picked up by a local process worker."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect_client import api

from storage import store

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect"]


def _prefect(*args, timeout=300, env=None) -> str:
    result = subprocess.run(PREFECT + list(args), cwd=ROOT, env=env or os.environ.copy(), capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result.stdout


def test_deploy_all_then_a_process_worker_runs_a_deployment(prefect_api, tmp_path):
    for pool in ("cpu", "gpu"):
        _prefect("work-pool", "create", pool, "--type", "process")
    _prefect("--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml")
    deployments = api(lambda c: c.read_deployments())
    assert {d.name for d in deployments} == {"generate", "train", "nightly", "ingest", "score", "score-gpu",
                                             "evaluate", "survey"}
    nightly = next(d for d in deployments if d.name == "nightly")
    assert nightly.work_pool_name == "cpu" and nightly.schedules[0].schedule.cron == "0 3 * * *"
    assert not nightly.schedules[0].active  # created paused: resumed in the UI when the site is ready

    out = tmp_path / "train.zarr"
    _prefect("deployment", "run", "generate/generate", "--param", f"out={out}", "--param", "n=600",
             "--param", "chunk=300")
    env = {**os.environ, "SPECTROFLOW_HOME": str(ROOT)}
    _prefect("worker", "start", "--pool", "cpu", "--run-once", env=env, timeout=600)

    generate = next(d for d in deployments if d.name == "generate")
    runs = [r for r in api(lambda c: c.read_flow_runs()) if r.deployment_id == generate.id]
    assert [r.name for r in runs] == ["generate-training-600"]
    assert runs[0].state.is_completed() and runs[0].work_pool_name == "cpu"
    assert store.exists(out) and not store.incomplete_chunks(out) and store.layout(out) == (600, 300)


def test_the_nightly_deployment_processes_new_files_when_a_worker_picks_it_up(prefect_api, tmp_path):
    import json

    from survey_files import desi_file

    from storage import catalogue, ledger

    for pool in ("cpu", "gpu"):
        _prefect("work-pool", "create", pool, "--type", "process", "--overwrite")
    _prefect("--no-prompt", "deploy", "--name", "nightly", "--prefect-file", "deploy/prefect.yaml")
    incoming, root = tmp_path / "incoming", tmp_path / "nightly"
    incoming.mkdir()
    desi_file(incoming / "coadd.fits", (7, 8, 9))
    _prefect("deployment", "run", "nightly/nightly", "--param", f"incoming={json.dumps([str(incoming / '*.fits')])}",
             "--param", f"root={root}", "--param", "settle_s=0")
    _prefect("worker", "start", "--pool", "cpu", "--run-once", env={**os.environ, "SPECTROFLOW_HOME": str(ROOT)},
             timeout=600)
    assert [b["spectra"] for b in ledger.done_batches(str(root))] == [3]
    assert catalogue.read(root / "catalogue", ["TARGETID"])["TARGETID"].tolist() == [7, 8, 9]
