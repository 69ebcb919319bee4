import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import socket

import pytest


@pytest.fixture(scope="session")
def small_training_store(tmp_path_factory):
    """A complete thesis-preset training store: 1,536 spectra in 3 chunks (~3 s)."""
    from flows.jobs.generate import GenerateRequest, fill_chunk, prepare

    path = tmp_path_factory.mktemp("stores") / "small.zarr"
    request = GenerateRequest(str(path), n=1536, chunk=512, seed=21, preset="thesis")
    for index in prepare(request):
        fill_chunk(str(path), index)
    return str(path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """The API URL of a fresh local Prefect server (SQLite in a temporary PREFECT_HOME).

    Exported as PREFECT_API_URL so Dask workers and CLI subprocesses report to it.
    """
    from flows.runtime.server import start_server

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
        # Send the logs of flows run in this process while the server still answers
        # (otherwise the log worker retries against a dead server at interpreter exit).
        import sys

        if "prefect.logging.handlers" in sys.modules:
            sys.modules["prefect.logging.handlers"].APILogWorker.drain_all(timeout=5)
        server.terminate()
        server.wait(timeout=60)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
