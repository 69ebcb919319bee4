"""Find, or start, the Prefect API the flows report to.

The embedded default needs nothing set up: if ``PREFECT_API_URL`` is unset, the
CLI reuses a Prefect server already answering on 127.0.0.1:PORT, or starts one
(``prefect server start``, SQLite under ``PREFECT_HOME``) detached from the
terminal, so its UI outlives the command that started it. A real server rather
than Prefect's ephemeral mode: with a DaskTaskRunner, ephemeral mode starts one
temporary API server per worker process, all on the same SQLite file (2-3x slower),
so a real local server is used.

Only the standard library is imported here: the API URL must be in the
environment before ``prefect`` is imported (Prefect reads its settings at import)
and before Dask workers are spawned (they inherit the environment).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

#: Port of the local server (override with SPECTROFLOW_PREFECT_PORT).
DEFAULT_PORT = 4200
#: A fresh server needs ~8 s on a 2-core machine; a first start also migrates its database.
START_TIMEOUT_S = 120.0
QUIET_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # The progress bar and summary speak on the terminal; every log line still
    # reaches the Prefect UI through the API handler.
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
}


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """True if ``api_url`` (ending in /api) answers its health check."""
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def ui_url(api_url: str) -> str:
    """The UI address of a local server's API URL."""
    return api_url.rstrip("/").removesuffix("/api")


def ensure_server(port: int | None = None, log=print) -> str:
    """Return a healthy Prefect API URL, starting a local server if needed.

    Sets ``PREFECT_API_URL`` (and the quiet-logging variables, unless already set)
    in ``os.environ``. Raises RuntimeError, with what to do, when a configured
    server does not answer or a local one fails to start.
    """
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        if not healthy(configured):
            raise RuntimeError(f"PREFECT_API_URL={configured} does not answer; start that server or unset "
                               "PREFECT_API_URL to let spectroflow run a local one")
        return configured
    port = port or int(os.environ.get("SPECTROFLOW_PREFECT_PORT", DEFAULT_PORT))
    url = f"http://127.0.0.1:{port}/api"
    if healthy(url):
        log(f"Prefect: reusing the server at {ui_url(url)}")
    else:
        start_server(port, log)
    os.environ["PREFECT_API_URL"] = url
    return url


def start_server(port: int, log=print) -> subprocess.Popen:
    """Start ``prefect server start`` on 127.0.0.1:``port``, detached from this
    process's session, and wait until it answers. Returns its process."""
    url = f"http://127.0.0.1:{port}/api"
    home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect"))
    home.mkdir(parents=True, exist_ok=True)
    logfile = home / f"spectroflow-server-{port}.log"
    log(f"Prefect: starting a local server on {ui_url(url)} (log: {logfile})")
    env = {**os.environ, **{k: v for k, v in QUIET_ENV.items() if k not in os.environ}}
    env.pop("PREFECT_API_URL", None)
    # The UI asks the server where its API is; unset, the answer is port 4200 whatever
    # port this server listens on.
    env["PREFECT_SERVER_UI_API_URL"] = url
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if healthy(url):
            return proc
        if proc.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {proc.returncode}; see {logfile} "
                               f"(is port {port} taken? set SPECTROFLOW_PREFECT_PORT)")
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"the Prefect server did not answer within {START_TIMEOUT_S:.0f} s; see {logfile}")
