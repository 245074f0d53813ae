"""Helpers for tests that start the whole system as `make run` does and act on its processes
(sentinel/tests/test_runner.py, test_faults.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from sentinel.embedded import free_port
from transactions.api.authentication import sign

ROOT = Path(__file__).resolve().parents[2]


def scratch_database_url(suffix: str) -> str:
    """A database of its own on the configured server, so a started system never touches
    development data (created on first use, kept between runs)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = f"{parts.path.lstrip('/') or 'sentinel'}_{suffix}"
    # The configured database itself need not exist (the test runner never uses it).
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def get(url: str, timeout: float = 2) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310  local test server
        return reply.status, reply.read()


def wait_for(predicate, timeout: float, process: subprocess.Popen, interval: float = 0.5) -> bool:
    """Whether ``predicate()`` became true within ``timeout`` seconds (connection errors count
    as "not yet"); fails at once if the runner ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the runner exited early"
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(interval)
    return False


def signed_request(
    base: str, credentials: dict, path: str, payload: dict
) -> urllib.request.Request:
    """A POST signed as the partner whose key is ``credentials`` (create_partner --json)."""
    body = json.dumps(payload).encode()
    timestamp = int(time.time())
    return urllib.request.Request(
        f"{base}{path}",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Sentinel-Key": credentials["key_id"],
            "X-Sentinel-Timestamp": str(timestamp),
            "X-Sentinel-Signature": sign(credentials["secret"], timestamp, body),
        },
    )


def create_partner(env: dict, name: str, *options: str) -> dict:
    """A new partner and its key in the started system's database: {"partner", "key_id",
    "secret"}; ``options`` go to the command (e.g. "--rate-limit", "100000")."""
    return json.loads(
        subprocess.run(
            [sys.executable, "manage.py", "create_partner", name, "--json", *options],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )


def query(env: dict, sql: str, params: list) -> tuple | None:
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        return conn.execute(sql, params).fetchone()


def children(pid: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return {int(line) for line in out.split()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def child_running(pid: int, role: str) -> int | None:
    """The child of ``pid`` whose command line has the word ``role`` (celery's "worker" or
    "beat", uvicorn's module), if one runs."""
    for child in children(pid):
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if role.encode() in argv and alive(child):
            return child
    return None


@dataclass
class System:
    """A started `make run`: its runner process, base URL, environment and log."""

    runner: subprocess.Popen
    base: str
    env: dict
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running_system(tmp_path: Path, database: str, **overrides: str) -> Iterator[System]:
    """`python -m sentinel.runner` on a database of its own (``database``: its suffix), no demo
    data or traffic, one web and one worker process unless ``overrides`` say otherwise; waits
    until /healthz answers. On the way out, whatever still runs is killed; the runner's log is
    printed when it did not exit cleanly."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database_url(database),
        "PORT": str(port),
        "DEMO_DATA": "0",
        "DEMO_TRAFFIC": "0",  # its own tests: sentinel/demo/tests/test_stream.py
        "SENTINEL_STATE_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "sentinel.settings.local",
        "WEB_CONCURRENCY": "1",
        "CELERY_CONCURRENCY": "1",
        **overrides,
    }
    log_path = tmp_path / "runner.log"
    with log_path.open("wb") as log:
        runner = subprocess.Popen(
            [sys.executable, "-m", "sentinel.runner"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        system = System(runner, f"http://127.0.0.1:{port}", env, log_path)
        try:
            assert wait_for(lambda: get(f"{system.base}/healthz")[0] == 200, 120, runner)
            yield system
        finally:
            if runner.poll() is None:
                os.killpg(runner.pid, signal.SIGKILL)
                runner.wait()
            if runner.returncode != 0:
                print(system.log_text()[-5000:])
