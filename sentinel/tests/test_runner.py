"""`make run` end to end: the runner starts web, worker and beat, and Ctrl-C stops them all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from sentinel.tests.system import (
    ROOT,
    alive,
    child_running,
    children,
    create_partner,
    query,
    running_system,
    signed_request,
    wait_for,
)
from transactions.tests.factories import transaction_payload


def _post(base: str, credentials: dict, payload: dict, wait: bool = False) -> dict:
    path = "/api/v1/transactions/" + ("?wait=true" if wait else "")
    with urllib.request.urlopen(
        signed_request(base, credentials, path, payload), timeout=10
    ) as reply:  # noqa: S310
        assert reply.status == 201
        return json.load(reply)


def _decided(env: dict, transaction_id: str) -> bool:
    sql = "SELECT 1 FROM rules_decision WHERE transaction_id = %s"
    return query(env, sql, [transaction_id]) is not None


def _hit(env: dict, transaction_id: str, code: str) -> bool:
    sql = (
        "SELECT 1 FROM rules_rulehit h JOIN rules_rule r ON r.id = h.rule_id "
        "WHERE h.decision_id = %s AND r.code = %s AND NOT h.shadow"
    )
    return query(env, sql, [transaction_id, code]) is not None


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


@pytest.mark.xdist_group("processes")
def test_runner_serves_ingests_scores_and_stops_everything(tmp_path):
    # Given the runner has started
    with running_system(tmp_path, "runner_test") as system:
        runner, base, env = system.runner, system.base, system.env
        credentials = create_partner(env, f"Runner {base}")

        # When a partner sends a signed transaction
        created = _post(base, credentials, transaction_payload())

        # Then the worker profiles and scores it within 2 seconds
        assert wait_for(lambda: _decided(env, created["id"]), 5, runner)

        # When two compliance officers put a new rule live (one asks, the other approves)
        probe = f"runner_probe_{base.rsplit(':', 1)[1]}"  # the database outlives a test run
        _manage_shell(env, _GO_LIVE, probe)

        # Then, from the commit on, both the web process (?wait=true) and the worker apply it
        # within 2 seconds
        def web_applies() -> bool:
            body = _post(base, credentials, transaction_payload(amount="7777.00"), wait=True)
            return any(hit["rule"] == probe for hit in body["decision"]["hits"])

        assert wait_for(web_applies, 2, runner, interval=0.1)
        queued = _post(base, credentials, transaction_payload(amount="7777.00"))
        assert wait_for(lambda: _hit(env, queued["id"], probe), 3, runner)

        # When two officers pause it (one asks, the other approves), it stops within 2 seconds
        _manage_shell(env, _PAUSE, probe)
        assert wait_for(lambda: not web_applies(), 2, runner, interval=0.1)

        # When the worker's main process and beat are killed (kill -9)
        worker, beat = child_running(runner.pid, "worker"), child_running(runner.pid, "beat")
        os.kill(worker, signal.SIGKILL)
        os.kill(beat, signal.SIGKILL)

        # Then the runner keeps going: both come back, and a new transaction is decided
        assert wait_for(
            lambda: child_running(runner.pid, "worker") not in (None, worker), 10, runner
        )
        assert wait_for(lambda: child_running(runner.pid, "beat") not in (None, beat), 10, runner)
        after = _post(base, credentials, transaction_payload())
        assert wait_for(lambda: _decided(env, after["id"]), 30, runner)
        assert "worker stopped unexpectedly (killed by SIGKILL)" in system.log_text()

        # And SIGTERM stops the runner and every process it started
        started = children(runner.pid)
        assert len(started) == 3  # web, worker, beat
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=40) == 0
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(pid) for pid in started)
