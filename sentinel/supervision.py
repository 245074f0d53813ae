"""Keeps `make run`'s processes running: one that dies is started again after a back-off.

The web server and the Celery worker restart their own children (uvicorn's workers, the
prefork pool), but not themselves: before this, a crashed worker main process or beat stopped
the whole system. A process that keeps dying is restarted less and less often (1 s, 2 s, 4 s …
up to 30 s), so a broken configuration does not spin; one that stayed up for a minute counts as
healthy again and its next crash restarts it after 1 s.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
STABLE_SECONDS = 60.0


def backoff_seconds(crashes: int) -> float:
    """The wait before restarting a process that died ``crashes`` times in a row (1, 2, …)."""
    return min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(0, crashes - 1))


@dataclass
class Service:
    """One supervised process: how to start it, and what became of the last start."""

    name: str
    command: list[str]
    preexec: Callable[[], None] | None = None
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    crashes: int = 0  # in a row, without a stable run between them
    restart_at: float | None = None  # set while it is dead and waiting out its back-off
    restarts: int = 0  # in all, for the log


class Supervisor:
    """Starts services, restarts the ones that die, stops them all (last started, first)."""

    def __init__(
        self,
        services: list[Service],
        *,
        cwd: Path,
        say: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ):
        self.services = services
        self.cwd = cwd
        self.say = say
        self.clock = clock
        self.stopped = False

    def start_all(self) -> None:
        for service in self.services:
            self._start(service)

    def check(self) -> None:
        """Notice dead processes and restart those whose back-off is over; call it often.
        Does nothing once ``stop_all`` has begun."""
        if self.stopped:
            return
        now = self.clock()
        for service in self.services:
            process = service.process
            if service.restart_at is None and process is not None and process.poll() is None:
                continue
            if service.restart_at is None:
                if now - service.started_at >= STABLE_SECONDS:
                    service.crashes = 0
                service.crashes += 1
                delay = backoff_seconds(service.crashes)
                service.restart_at = now + delay
                code = process.returncode if process is not None else None
                self.say(
                    f"{service.name} stopped unexpectedly ({_describe(code)}); "
                    f"restarting in {delay:g} s"
                )
            elif now >= service.restart_at:
                service.restarts += 1
                self._start(service)
                self.say(f"{service.name} restarted (restart {service.restarts})")

    def running(self) -> dict[str, subprocess.Popen]:
        """The processes alive now, by service name."""
        return {
            service.name: service.process
            for service in self.services
            if service.process is not None and service.process.poll() is None
        }

    def stop_all(self, grace_seconds: float) -> None:
        """SIGTERM every process, wait up to ``grace_seconds`` for a clean exit, then SIGKILL."""
        self.stopped = True
        processes = [s.process for s in reversed(self.services) if s.process is not None]
        for service in self.services:
            service.restart_at = None
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = self.clock() + grace_seconds
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _start(self, service: Service) -> None:
        service.process = subprocess.Popen(  # noqa: PLW1509  preexec_fn: nice / death signal
            service.command, cwd=self.cwd, preexec_fn=service.preexec
        )
        service.started_at = self.clock()
        service.restart_at = None


def _describe(returncode: int | None) -> str:
    if returncode is None:
        return "never started"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"
