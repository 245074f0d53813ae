"""The processes under test: database schema, ASGI server and Celery worker, stopped on exit."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from bench import cpu
from sentinel.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = Path(__file__).with_name("results")
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 15
# A child measurement prints its result as one line starting with this, JSON after it.
RESULT_PREFIX = "RESULT "


def result_line(result: dict) -> str:
    """The line a child prints for ``child_result`` to read."""
    return RESULT_PREFIX + json.dumps(result, default=str)


def child_result(module: str, argv: list[str], env: dict[str, str], *, timeout: float) -> dict:
    """Run ``python -m <module> <argv>`` (a phase measured in a process of its own, with its
    own settings) and return the result its last ``result_line`` holds."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode or not lines:
        raise RuntimeError(f"{module} {' '.join(argv)} failed ({completed.returncode})")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


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


def celery_backlog() -> int | None:
    """Tasks queued in the broker (None when Redis does not answer). Before the run: work left
    by earlier runs that the worker will also chew on during this one; after: how far ingest
    outran the worker."""
    import redis

    try:
        return int(redis.Redis.from_url(os.environ["REDIS_URL"]).llen("celery"))
    except redis.RedisError:
        return None


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


def worker_concurrency() -> int:
    """Worker processes (BENCH_WORKER_CONCURRENCY): 2 by default, as `make run` starts it and
    as many as the profiling queue has shards (SENTINEL_PROFILE_SHARDS)."""
    return int(os.environ.get("BENCH_WORKER_CONCURRENCY", "2"))


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
        str(worker_concurrency()),
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]
    # As make run starts it (sentinel/runner.py): yielding the CPU to the web server.
    argv = ["nice", "-n", os.environ.get("CELERY_NICE", "10"), *argv]
    with running(argv, env, "worker.log") as process:
        _wait_worker_ready(process)
        yield process


def _wait_worker_ready(process: subprocess.Popen, timeout: float = 60) -> None:
    """Until the worker answers a ping: its start-up (Django, the task modules) would otherwise
    burn CPU inside the first phase's measurement."""
    from sentinel.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the Celery worker exited with status {process.returncode}; "
                f"see {LOG_DIR / 'worker.log'}"
            )
        if app.control.ping(timeout=0.5):
            return
    raise RuntimeError(f"the Celery worker did not answer a ping within {timeout:.0f} s")


@contextmanager
def web_server(
    env: dict[str, str], uvicorn_options: list[str], log_name: str = "server.log"
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
    with running(argv, env, log_name) as process:
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


def redis_pid() -> int | None:
    """The pid of the Redis server at REDIS_URL when it runs on this machine."""
    import redis

    url = os.environ["REDIS_URL"]
    if not _is_local(url):
        return None
    try:
        pid = int(redis.Redis.from_url(url).info("server")["process_id"])
    except (redis.RedisError, KeyError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def postgres_pid_from_server() -> int | None:
    """The postmaster's pid of the PostgreSQL at DATABASE_URL when it runs on this machine,
    from the data directory it reports (needs a superuser)."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    if not _is_local(url):
        return None
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            (data_directory,) = connection.execute(
                "SELECT current_setting('data_directory')"
            ).fetchone()
    except psycopg.Error:
        return None
    return cpu.postgres_pid(Path(data_directory))


def _is_local(url: str) -> bool:
    host = urlsplit(url).hostname
    if not host:
        return False
    try:
        return socket.gethostbyname(host).startswith("127.")
    except OSError:
        return False


def settle_database() -> float:
    """VACUUM (ANALYZE) and CHECKPOINT now, in this process, rather than let autovacuum and
    the checkpointer run into the next measurement; the seconds it took. A CHECKPOINT needs a
    superuser (or pg_checkpoint): without one it is skipped."""
    from django.db import DatabaseError, connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError:
            pass
    connection.close()
    return time.perf_counter() - began
