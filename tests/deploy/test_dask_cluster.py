"""The flows on a real Dask cluster: a `dask scheduler` and two `dask worker`
processes on loopback, addressed with --cluster tcp://..., as on a site's cluster."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from flows.runtime.malloc import ENVIRONMENT

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
DASK = [sys.executable, "-m", "dask"]  # the `dask` command of this environment


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(command: list[str]) -> subprocess.Popen:
    env = {**os.environ, **ENVIRONMENT}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(prefect_api):
    """(scheduler address, [worker processes]): workers without nannies, so a worker's
    PID is the process that holds its tasks."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    procs = [_start(DASK + ["scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                            "--no-dashboard"])]
    try:
        workers = [_start(DASK + ["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                  "--name", f"w{i}"]) for i in range(2)]
        procs += workers
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address, workers
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _cli(*args, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flows.cli", *args], cwd=ROOT, env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def _ok(*args) -> str:
    proc = _cli(*args)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-3000:]
    return out


@pytest.fixture(scope="module")
def products(cluster, tmp_path_factory):
    """generate -> train (tiny) -> generate a survey -> score, all on the cluster."""
    address, _ = cluster
    root = tmp_path_factory.mktemp("cluster")
    _ok("generate", "--n", "1024", "--chunk", "256", "--seed", "3", "--instrument", "deimos,sdss,desi",
        "--out", str(root / "train.zarr"), "--cluster", address)
    _ok("train", "--store", str(root / "train.zarr"), "--out", str(root / "model"), "--epochs", "1",
        "--limit", "256")
    _ok("generate", "--kind", "survey", "--n", "6144", "--chunk", "512", "--seed", "4",
        "--instrument", "deimos,sdss,desi", "--out", str(root / "survey.zarr"), "--cluster", address)
    out = _ok("score", "--store", str(root / "survey.zarr"), "--model", str(root / "model"),
              "--out", str(root / "catalogue"), "--cluster", address)
    return root, out


def test_generate_train_score_on_a_scheduler_address(products, cluster):
    from distributed import Client

    root, out = products
    assert "catalogue of 6,144 rows" in out and "Dask dashboard" not in out  # no local cluster was started
    ids = pq.read_table(root / "catalogue" / "catalogue.parquet").column("TARGETID").to_pylist()
    assert ids == list(range(6144))
    with Client(cluster[0]) as client:  # the work ran on the cluster's two workers
        assert len(client.scheduler_info()["workers"]) == 2


def test_killing_a_worker_mid_score_still_gives_the_same_catalogue(products, cluster):
    root, _ = products
    address, workers = cluster
    out = root / "disturbed"
    proc = _cli("score", "--store", str(root / "survey.zarr"), "--model", str(root / "model"), "--out", str(out),
                "--cluster", address)
    deadline = time.monotonic() + 300
    while not list((out / "parts").glob("part-*.parquet")):
        assert proc.poll() is None and time.monotonic() < deadline, "score ended before any part was written"
        time.sleep(0.05)
    os.kill(workers[0].pid, signal.SIGKILL)
    log, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, log[-3000:]
    assert workers[0].wait(timeout=30) == -signal.SIGKILL
    assert len(list((out / "parts").glob("part-*.parquet"))) == 12
    # pandas' equals counts NaN (e.g. P_QSO of a model without a class head) equal to NaN; Arrow's does not
    assert pq.read_table(out / "catalogue.parquet").to_pandas().equals(
        pq.read_table(root / "catalogue" / "catalogue.parquet").to_pandas())


def test_score_chunks_go_to_a_worker_that_advertises_a_gpu(products, cluster):
    """Runs after the kill: the cluster has one plain worker left; a worker started with
    `--resources GPU=1` joins, and every chunk of the next score, and the training task
    of a train flow on this cluster, run there."""
    from distributed import Client

    from flows.runtime.cluster import task_runner
    from flows.train import train

    root, _ = products
    address, _ = cluster
    gpu = _start(DASK + ["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", "gpu",
                         "--resources", "GPU=1"])
    try:
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)

            def executed(dask_worker):
                return dask_worker.state.executed_count

            before = client.run(executed)
            _ok("score", "--store", str(root / "survey.zarr"), "--model", str(root / "model"),
                "--out", str(root / "on-gpu-worker"), "--cluster", address)
            after = client.run(executed)
            train.with_options(task_runner=task_runner(address))(
                str(root / "train.zarr"), out=str(root / "model-on-gpu-worker"), max_epochs=1, limit=256,
                progress_bar=False)
            trained = client.run(executed)
            resources = {w: info.get("resources", {}) for w, info in client.scheduler_info()["workers"].items()}
        gpu_worker = next(w for w, r in resources.items() if r.get("GPU"))
        ran = {w: after[w] - before.get(w, 0) for w in after}
        assert ran[gpu_worker] >= 12  # the 12 chunks
        assert sum(n for w, n in ran.items() if w != gpu_worker) <= 1  # at most the merge
        assert {w: trained[w] - after[w] for w in trained} == {w: int(w == gpu_worker) for w in trained}  # the fit
        assert (root / "model-on-gpu-worker" / "model.pt").exists()
    finally:
        _stop(gpu)
