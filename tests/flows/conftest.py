"""A real Prefect server for the flow tests (one per session, on a free port)."""

import os
import socket

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """The API URL of a fresh local Prefect server (SQLite in a temporary PREFECT_HOME).

    Exported as PREFECT_API_URL so Dask workers and CLI subprocesses report to it.
    """
    from flows.server import start_server

    saved = {k: os.environ.get(k) for k in ("PREFECT_HOME", "PREFECT_API_URL")}
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    port = _free_port()
    server = start_server(port, log=lambda message: None)
    url = f"http://127.0.0.1:{port}/api"
    os.environ["PREFECT_API_URL"] = url
    from prefect.settings import PREFECT_API_URL, temporary_settings

    try:
        with temporary_settings({PREFECT_API_URL: url}):
            yield url
    finally:
        server.terminate()
        server.wait(timeout=60)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def tiny_model(small_training_store, tmp_path_factory):
    """A `default` model trained for one short epoch (flags and plumbing, not accuracy)."""
    from flows.training_run import TrainRequest, run_training

    out = tmp_path_factory.mktemp("model") / "default"
    run_training(TrainRequest(small_training_store, out=str(out), max_epochs=1, limit=256), log=lambda m: None,
                 progress_bar=False)
    return str(out)
