"""The supervisor behind `make run`: dead processes come back, after a growing back-off."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from sentinel.supervision import (
    BACKOFF_MAX_SECONDS,
    STABLE_SECONDS,
    Service,
    Supervisor,
    backoff_seconds,
)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
FAILING = [sys.executable, "-c", "import sys; sys.exit(3)"]


class Clock:
    """A monotonic clock the test moves by hand, so back-offs need no real waiting."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def supervised(tmp_path):
    made: list[Supervisor] = []

    def make(*services: Service, clock=time.monotonic) -> tuple[Supervisor, list[str]]:
        said: list[str] = []
        supervisor = Supervisor(list(services), cwd=tmp_path, say=said.append, clock=clock)
        made.append(supervisor)
        return supervisor, said

    yield make
    for supervisor in made:
        supervisor.stop_all(grace_seconds=5)


def _exited(process, timeout: float = 10) -> None:
    process.wait(timeout=timeout)


def test_back_off_doubles_from_one_second_up_to_thirty():
    assert [backoff_seconds(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert BACKOFF_MAX_SECONDS == 30


def test_a_killed_process_is_restarted_and_the_others_keep_running(supervised):
    # Given a web server and a worker under supervision
    clock = Clock()
    supervisor, said = supervised(Service("web", SLEEPER), Service("worker", SLEEPER), clock=clock)
    supervisor.start_all()
    web, worker = supervisor.running()["web"], supervisor.running()["worker"]

    # When the worker is killed with SIGKILL
    os.kill(worker.pid, signal.SIGKILL)
    _exited(worker)
    supervisor.check()

    # Then it is reported and waits out a one-second back-off, the web server untouched
    assert said == ["worker stopped unexpectedly (killed by SIGKILL); restarting in 1 s"]
    assert set(supervisor.running()) == {"web"}
    clock.now += 0.5
    supervisor.check()
    assert "worker" not in supervisor.running()

    # And once the back-off is over a new worker process runs
    clock.now += 0.5
    supervisor.check()
    assert said[-1] == "worker restarted (restart 1)"
    assert supervisor.running()["worker"].pid != worker.pid
    assert supervisor.running()["web"] is web


def test_a_process_that_keeps_dying_waits_longer_each_time_until_it_stays_up(supervised):
    # Given a beat process whose command fails at once
    clock = Clock()
    beat = Service("beat", FAILING)
    supervisor, said = supervised(beat, clock=clock)
    supervisor.start_all()

    # When it dies three times in a row
    for delay in (1, 2, 4):
        _exited(beat.process)
        supervisor.check()
        assert said[-1] == f"beat stopped unexpectedly (exit code 3); restarting in {delay} s"
        clock.now += delay
        supervisor.check()

    # Then each restart waited twice as long; and after it stayed up for a minute, the next
    # crash is restarted after one second again
    beat.command = SLEEPER
    _exited(beat.process)
    supervisor.check()
    clock.now += 8
    supervisor.check()
    assert said[-1] == "beat restarted (restart 4)"
    clock.now += STABLE_SECONDS
    os.kill(beat.process.pid, signal.SIGKILL)
    _exited(beat.process)
    supervisor.check()
    assert said[-1] == "beat stopped unexpectedly (killed by SIGKILL); restarting in 1 s"


def test_stop_all_stops_every_process_and_restarts_none(supervised):
    # Given two supervised processes, one of them dead and waiting for its restart
    clock = Clock()
    supervisor, said = supervised(Service("web", SLEEPER), Service("beat", SLEEPER), clock=clock)
    supervisor.start_all()
    beat = supervisor.running()["beat"]
    os.kill(beat.pid, signal.SIGKILL)
    _exited(beat)
    supervisor.check()

    # When everything is stopped (Ctrl-C)
    supervisor.stop_all(grace_seconds=5)

    # Then nothing runs, and nothing is started again however long one waits
    clock.now += 60
    supervisor.check()
    assert supervisor.running() == {}
    assert said == ["beat stopped unexpectedly (killed by SIGKILL); restarting in 1 s"]
