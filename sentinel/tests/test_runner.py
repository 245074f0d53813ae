"""`make run` end to end: the runner starts web, worker and beat, and Ctrl-C stops them all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from sentinel.embedded import free_port
from transactions.api.authentication import sign
from transactions.tests.factories import transaction_payload

ROOT = Path(__file__).resolve().parents[2]


def _runner_database_url() -> str:
    """A database of its own on the same server, so the runner never touches dev data."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = f"{parts.path.lstrip('/') or 'sentinel'}_runner_test"
    # The configured database itself need not exist (the test runner never uses it).
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def _get(url: str, timeout: float = 2) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310  local test server
        return reply.status, reply.read()


def _wait_for(predicate, timeout: float, process: subprocess.Popen, interval: float = 0.5) -> bool:
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


def _post(base: str, credentials: dict, payload: dict, wait: bool = False) -> dict:
    body = json.dumps(payload).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(
        f"{base}/api/v1/transactions/" + ("?wait=true" if wait else ""),
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Sentinel-Key": credentials["key_id"],
            "X-Sentinel-Timestamp": str(timestamp),
            "X-Sentinel-Signature": sign(credentials["secret"], timestamp, body),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
        assert reply.status == 201
        return json.load(reply)


def _query(env: dict, sql: str, params: list) -> tuple | None:
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        return conn.execute(sql, params).fetchone()


def _decided(env: dict, transaction_id: str) -> bool:
    sql = "SELECT 1 FROM rules_decision WHERE transaction_id = %s"
    return _query(env, sql, [transaction_id]) is not None


def _hit(env: dict, transaction_id: str, code: str) -> bool:
    sql = (
        "SELECT 1 FROM rules_rulehit h JOIN rules_rule r ON r.id = h.rule_id "
        "WHERE h.decision_id = %s AND r.code = %s AND NOT h.shadow"
    )
    return _query(env, sql, [transaction_id, code]) is not None


_SHELL_SECONDS = 60
_GO_LIVE = """
from django.contrib.auth.models import Group, User
from rules import services
from rules.models import Rule
officers = []
for name in ("runner_alice", "runner_bob"):
    user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Compliance officer"))
    officers.append(User.objects.get(pk=user.pk))
rule = services.rule_create(code=CODE, author=officers[0], name="Probe",
    expression="amount == 7777", severity="low", score=1, outcome="alert")
change = services.rule_status_change(rule=rule, target_status="live", actor=officers[0])
services.rule_change_approve(change=change, approver=officers[1])
"""
_PAUSE = """
from django.contrib.auth.models import User
from rules import services
from rules.models import Rule
change = services.rule_status_change(rule=Rule.objects.get(code=CODE), target_status="paused",
    actor=User.objects.get(username="runner_alice"))
services.rule_change_approve(change=change, approver=User.objects.get(username="runner_bob"))
"""


def _manage_shell(env: dict, code: str, rule_code: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", f"CODE = {rule_code!r}\n{code}"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=_SHELL_SECONDS,
    )


def _children(pid: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return {int(line) for line in out.split()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.xdist_group("processes")
def test_runner_serves_ingests_scores_and_stops_everything(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _runner_database_url(),
        "PORT": str(port),
        "DEMO_DATA": "0",
        "DEMO_TRAFFIC": "0",  # its own tests: sentinel/demo/tests/test_stream.py
        "SENTINEL_STATE_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "sentinel.settings.local",
        "WEB_CONCURRENCY": "1",
        "CELERY_CONCURRENCY": "1",
    }
    log = (tmp_path / "runner.log").open("wb")
    runner = subprocess.Popen(
        [sys.executable, "-m", "sentinel.runner"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # Given the runner has started
        base = f"http://127.0.0.1:{port}"
        assert _wait_for(lambda: _get(f"{base}/healthz")[0] == 200, 120, runner)
        credentials = json.loads(
            subprocess.run(
                [sys.executable, "manage.py", "create_partner", f"Runner {port}", "--json"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )

        # When a partner sends a signed transaction
        created = _post(base, credentials, transaction_payload())

        # Then the worker profiles and scores it within 2 seconds
        assert _wait_for(lambda: _decided(env, created["id"]), 5, runner)

        # When two compliance officers put a new rule live (one asks, the other approves)
        probe = f"runner_probe_{port}"  # the runner's database outlives a test run
        _manage_shell(env, _GO_LIVE, probe)

        # Then, from the commit on, both the web process (?wait=true) and the worker apply it
        # within 2 seconds
        def web_applies() -> bool:
            body = _post(base, credentials, transaction_payload(amount="7777.00"), wait=True)
            return any(hit["rule"] == probe for hit in body["decision"]["hits"])

        assert _wait_for(web_applies, 2, runner, interval=0.1)
        queued = _post(base, credentials, transaction_payload(amount="7777.00"))
        assert _wait_for(lambda: _hit(env, queued["id"], probe), 3, runner)

        # When two officers pause it (one asks, the other approves), it stops within 2 seconds
        _manage_shell(env, _PAUSE, probe)
        assert _wait_for(lambda: not web_applies(), 2, runner, interval=0.1)

        # And SIGTERM stops the runner and every process it started
        children = _children(runner.pid)
        assert len(children) == 3  # web, worker, beat
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=40) == 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in children)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait()
        log.close()
        if runner.returncode != 0:
            print((tmp_path / "runner.log").read_text(errors="replace")[-5000:])
