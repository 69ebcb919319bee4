"""End to end: the "generate" flow on a real LocalCluster, reporting to a real Prefect API."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from flows.jobs.generate import GenerateRequest
from storage import store

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
N, CHUNK, SEED = 4096, 128, 11  # 32 chunks: a run lasts long enough to interrupt


def store_bytes(path):
    """Relative path -> bytes of every file in a store."""
    path = Path(path)
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def api(url, route, body):
    request = urllib.request.Request(f"{url}/{route}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


@pytest.fixture(scope="module")
def one_worker_store(prefect_api, tmp_path_factory):
    """The reference: the store written by a single Dask worker."""
    from flows.generate import run_generate

    path = tmp_path_factory.mktemp("one") / "one.zarr"
    summary = run_generate(GenerateRequest(str(path), N, CHUNK, SEED), workers=1, progress_bar=False)
    assert summary["written_chunks"] == N // CHUNK
    return path


def test_two_workers_write_the_bytes_one_worker_writes(prefect_api, one_worker_store, tmp_path):
    from flows.generate import run_generate

    path = tmp_path / "two.zarr"
    summary = run_generate(GenerateRequest(str(path), N, CHUNK, SEED), workers=2, progress_bar=False)
    assert summary["written_spectra"] == N and not summary["failed"]
    assert store.verify(path).ok
    assert store_bytes(path) == store_bytes(one_worker_store)

    runs = api(prefect_api, "flow_runs/filter", {"flow_runs": {"name": {"any_": [f"generate-training-{N}"]}}})
    assert len(runs) >= 2 and all(r["state_type"] == "COMPLETED" for r in runs)
    tasks = api(prefect_api, "task_runs/filter", {"flow_runs": {"id": {"any_": [runs[0]["id"]]}}})
    assert sorted(t["name"] for t in tasks if t["name"].startswith("chunk-")) == sorted(
        f"chunk-{i}" for i in range(N // CHUNK))


def cli(out, **popen):
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "generate", "--n", str(N), "--chunk", str(CHUNK), "--seed", str(SEED),
         "--workers", "2", "--out", str(out)],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def wait_for_some_chunks(proc, path, timeout=240):
    """Wait until at least one chunk (but not all) is recorded complete."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        if store.exists(path) and 0 < len(store.incomplete_chunks(path)) < N // CHUNK:
            return
        time.sleep(0.02)
    raise AssertionError("no chunk completed in time")


@pytest.mark.parametrize("how", ["kill", "ctrl-c"])
def test_interrupted_run_resumes_to_the_same_store(prefect_api, one_worker_store, tmp_path, how):
    path = tmp_path / "resumed.zarr"
    proc = cli(path, start_new_session=True)
    wait_for_some_chunks(proc, path)
    if how == "kill":  # the flow process and its Dask workers die at once
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        os.kill(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    if how == "ctrl-c":
        assert proc.returncode == 130 and "rerun the same command" in output
        os.killpg(proc.pid, signal.SIGKILL) if _group_alive(proc.pid) else None
    missing = store.incomplete_chunks(path)
    assert 0 < len(missing) < N // CHUNK

    rerun = cli(path)
    output, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, output
    assert f"{N // CHUNK - len(missing)} already" in output
    assert store_bytes(path) == store_bytes(one_worker_store)


def _group_alive(pgid) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
