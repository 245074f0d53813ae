"""`make run`: the whole system in one terminal, stopped by one Ctrl-C.

This process owns the embedded PostgreSQL and Redis (when DATABASE_URL / REDIS_URL are unset),
so they live exactly as long as the system does; the web server, the Celery worker and Celery
beat inherit the URLs through the environment. It supervises them: one that dies is restarted
after a back-off (sentinel/supervision.py) while the others go on.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sentinel import embedded
from sentinel.supervision import Service, Supervisor

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "sentinel-demo"  # noqa: S105  printed for the demo users, never for real ones
DEMO_LOGINS = ("investigator", "senior", "compliance", "admin")
STOP_GRACE_SECONDS = 15


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")
    port = int(os.environ.get("PORT", "8000"))
    say("starting PostgreSQL and Redis" if not os.environ.get("DATABASE_URL") else "connecting")
    embedded.ensure_database(embedded.database_url())
    embedded.redis_url()
    manage("migrate", "--noinput")
    seed_demo_once()
    prepare_metrics_dir()

    supervisor = Supervisor(services(port), cwd=ROOT, say=say)
    supervisor.start_all()
    stop = install_signal_handlers()
    optional: dict[str, subprocess.Popen] = {}  # nice to have: if one stops, the rest runs on
    try:
        if wait_until_healthy(port, supervisor, stop):
            optional = start_demo_traffic(port)
            announce(port)
        while not stop["requested"]:
            supervisor.check()
            forget_stopped(optional)
            time.sleep(0.5)
        return 0
    finally:
        say("stopping")
        stop_services(optional)  # the demo traffic first, then beat, the worker, the server
        supervisor.stop_all(STOP_GRACE_SECONDS)
        say("stopped")


def say(message: str) -> None:
    print(f"[sentinel] {message}", flush=True)


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, check=True)


def seed_demo_once() -> None:
    """Demo data on first start only; DEMO_DATA=0 skips it."""
    marker = embedded.state_dir() / "demo-seeded"
    if os.environ.get("DEMO_DATA", "1") == "0" or marker.exists():
        return
    say("loading demo data (first start only)")
    manage("seed_demo", "--seed", "7", "--password", DEMO_PASSWORD)
    marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def prepare_metrics_dir() -> Path:
    """Where every process of this run keeps its Prometheus values (prometheus_client's
    multiprocess mode), read and summed by whichever web worker answers GET /metrics.

    Wiped at each start: the values of a previous run's processes are not this run's. An
    operator's own PROMETHEUS_MULTIPROC_DIR is used as it is, never wiped.
    """
    if configured := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        Path(configured).mkdir(parents=True, exist_ok=True)
        return Path(configured)
    path = embedded.state_dir() / "prometheus"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def services(port: int) -> list[Service]:
    web_workers = os.environ.get("WEB_CONCURRENCY", "2")
    commands = {
        "web": [
            str(BIN / "uvicorn"),
            "sentinel.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            web_workers,
            "--no-access-log",
        ],
        "worker": [
            str(BIN / "celery"),
            "-A",
            "sentinel",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            os.environ.get("CELERY_CONCURRENCY", "2"),
            "--hostname",
            "sentinel@%h",
        ],
        "beat": [str(BIN / "celery"), "-A", "sentinel", "beat", "--loglevel", "INFO"],
    }
    return [
        Service(name, command, preexec=_background if name == "worker" else _die_with_parent)
        for name, command in commands.items()
    ]


def start_demo_traffic(port: int) -> dict[str, subprocess.Popen]:
    """Live demo payments through the signed API, so alerts arrive while a newcomer watches
    (DEMO_TRAFFIC=0: none; DEMO_TRAFFIC_RATE: payments per second, default 3)."""
    if os.environ.get("DEMO_TRAFFIC", "1") == "0":
        return {}
    command = [sys.executable, str(ROOT / "manage.py"), "demo_traffic"]
    command += ["--url", f"http://127.0.0.1:{port}", "--rate", demo_traffic_rate()]
    traffic = subprocess.Popen(command, cwd=ROOT, preexec_fn=_die_with_parent)  # noqa: PLW1509
    return {"demo traffic": traffic}


def demo_traffic_rate() -> str:
    return os.environ.get("DEMO_TRAFFIC_RATE", "3")


def forget_stopped(optional: dict[str, subprocess.Popen]) -> None:
    for name, proc in list(optional.items()):
        if proc.poll() is not None:
            say(f"{name} stopped (exit code {proc.returncode}); everything else keeps running")
            del optional[name]


def _background() -> None:
    """The worker yields the CPU to the web server when both want it: a partner waiting for an
    answer matters more than a decision a second later (CELERY_NICE, default 10; 0 turns it off).
    On a box of its own the worker is unaffected."""
    _die_with_parent()
    os.nice(int(os.environ.get("CELERY_NICE", "10")))


def _die_with_parent() -> None:
    """Linux: SIGTERM the child if the runner itself is killed (kill -9, OOM), so no orphans."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def install_signal_handlers() -> dict[str, bool]:
    stop = {"requested": False}

    def request_stop(signum, frame) -> None:
        stop["requested"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop


def wait_until_healthy(port: int, supervisor: Supervisor, stop: dict, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop["requested"]:
        supervisor.check()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def announce(port: int) -> None:
    logins = "\n".join(f"    {name:<13} / {DEMO_PASSWORD}" for name in DEMO_LOGINS)
    traffic = (
        "off (DEMO_TRAFFIC=0)"
        if os.environ.get("DEMO_TRAFFIC", "1") == "0"
        else f"{demo_traffic_rate()} payments/s through the signed API, alerts arrive live "
        "(DEMO_TRAFFIC=0 turns it off, DEMO_TRAFFIC_RATE sets the rate)"
    )
    print(
        f"\n  Sentinel is running at http://127.0.0.1:{port}/\n"
        f"  API docs: http://127.0.0.1:{port}/api/docs/   admin: http://127.0.0.1:{port}/admin/\n"
        f"  Demo logins (username / password):\n{logins}\n"
        f"  Demo traffic: {traffic}\n"
        "  Press Ctrl-C to stop everything.\n",
        flush=True,
    )


def stop_services(processes: dict[str, subprocess.Popen]) -> None:
    """SIGTERM everyone, wait for a clean exit, then SIGKILL stragglers."""
    for proc in processes.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for proc in processes.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
