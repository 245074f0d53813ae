"""The processes under test: database schema, ASGI server and Celery worker, stopped on exit."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sentinel.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = Path(__file__).with_name("results")
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 15


def server_env() -> dict[str, str]:
    """The environment of every child: the embedded servers' URLs (already exported by
    sentinel.embedded), a rate limit the load cannot reach, and DEBUG off as in production
    (DEBUG keeps a log of every SQL query, which is not what partners' traffic will meet)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sentinel.settings.local",
        "SENTINEL_RATE_LIMIT": "100000000",
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


@contextmanager
def running(argv: list[str], env: dict[str, str], log_name: str) -> Iterator[subprocess.Popen]:
    """A child process that is stopped (SIGTERM, then SIGKILL) however the block is left.

    Its output goes to bench/results/<log_name>, out of the report's way but there to read
    when a run shows errors.
    """
    LOG_DIR.mkdir(exist_ok=True)
    with open(LOG_DIR / log_name, "wb") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def celery_worker(env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """The profiling worker, so ingest is measured with its realistic background load.

    Heartbeat, gossip and mingle only matter between several workers; off, they neither delay
    the start nor add broker traffic to the measurement.
    """
    argv = [
        str(VENV_BIN / "celery"),
        "-A",
        "sentinel",
        "worker",
        "-l",
        "warning",
        "--concurrency",
        "1",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]
    with running(argv, env, "worker.log") as process:
        yield process


@contextmanager
def web_server(
    env: dict[str, str], uvicorn_options: list[str]
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Uvicorn on a free port; yields its base URL and process once /healthz answers 200."""
    port = free_port()
    argv = [
        str(VENV_BIN / "uvicorn"),
        "sentinel.asgi:application",
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        *uvicorn_options,
    ]
    base_url = f"http://{HOST}:{port}"
    with running(argv, env, "server.log") as process:
        _wait_healthy(port, process)
        yield base_url, process


def _wait_healthy(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the web server exited with status {process.returncode}; "
                f"see {LOG_DIR / 'server.log'}"
            )
        if _healthz_status(port) == 200:
            return
        time.sleep(0.3)
    raise RuntimeError(f"/healthz on port {port} did not answer 200 within {timeout:.0f} s")


def _healthz_status(port: int) -> int | None:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    except OSError:  # not listening yet
        return None
    finally:
        connection.close()
