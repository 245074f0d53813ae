"""Reachability of the services Sentinel depends on, for /healthz and the runner."""

from __future__ import annotations

from django.db import connection

from sentinel.redis import get_redis


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    get_redis().ping()


def check_broker() -> None:
    from sentinel.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)


CHECKS = {"database": check_database, "redis": check_redis, "broker": check_broker}


def service_health(*, details: bool = False) -> dict[str, str]:
    """{"database": "ok", ...} with "error" for a failing part; with ``details`` (operators
    only: exception text names hosts, ports and users) the error's type and message too."""
    report = {}
    for name, check in CHECKS.items():
        try:
            check()
            report[name] = "ok"
        except Exception as exc:  # noqa: BLE001  any failure means "not reachable"
            report[name] = f"error: {type(exc).__name__}: {exc}"[:300] if details else "error"
    return report
