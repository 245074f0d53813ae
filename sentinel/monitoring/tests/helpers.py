"""Given-steps for monitor tests: minutes of traffic seeded straight into MinuteStat."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import Group, User
from django.utils import timezone

from sentinel.monitoring.models import MinuteStat
from sentinel.roles import INVESTIGATOR

MINUTE = timedelta(minutes=1)
# A fixed "now" for seeded histories: whole minutes, well in the past.
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def minute_rows(
    partner,
    minute: datetime,
    *,
    acquirers: dict[str, tuple[int, int]],
    latency: float | None = 180.0,
) -> list[MinuteStat]:
    """One minute: per acquirer (transactions, failed); the overall row is their sum."""
    rows, total, failed = [], 0, 0
    for name, (count, bad) in acquirers.items():
        rows.append(_row(partner, minute, "acquirer", name, count, bad, latency))
        total, failed = total + count, failed + bad
    rows.append(_row(partner, minute, "", "", total, failed, latency))
    return rows


def _row(partner, minute, dimension, value, total, failed, latency) -> MinuteStat:
    return MinuteStat(
        partner=partner,
        minute=minute,
        dimension=dimension,
        value=value,
        total=total,
        approved=total - failed,
        failed=failed,
        denied=0,
        reversed=0,
        latency_count=total if latency is not None else 0,
        latency_p50_ms=latency * 0.6 if latency is not None and total else None,
        latency_p95_ms=latency if latency is not None and total else None,
        updated_at=timezone.now(),
    )


def seed_history(
    partner,
    *,
    start: datetime,
    minutes: int,
    per_acquirer: int = 100,
    failure_rate: float = 0.01,
    seed: int = 7,
    outage: tuple[datetime, datetime] | None = None,
    blips: tuple[datetime, ...] = (),
) -> None:
    """Ordinary traffic on two acquirers (acq-1, acq-2); during ``outage`` [from, to) acq-2
    fails 95% of its transactions; a blip minute fails half of everything."""
    rng = random.Random(seed)
    rows = []
    for i in range(minutes):
        minute = start + i * MINUTE
        acquirers = {}
        for name in ("acq-1", "acq-2"):
            bad = sum(rng.random() < failure_rate for _ in range(per_acquirer))
            if outage and outage[0] <= minute < outage[1] and name == "acq-2":
                bad = int(per_acquirer * 0.95)
            if minute in blips:
                bad = per_acquirer // 2
            acquirers[name] = (per_acquirer, bad)
        rows += minute_rows(partner, minute, acquirers=acquirers, latency=180 + rng.random() * 20)
    MinuteStat.objects.bulk_create(rows, batch_size=5000)


def monitor_viewer() -> User:
    user = User.objects.create_user(f"viewer{User.objects.count()}", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=INVESTIGATOR))
    return User.objects.get(pk=user.pk)


# --- The shipped three days of status counts (../shared/data/status_counts.csv) ---------------

# The replay's documented mapping (docs/monitor.md § Replay): refunds count as approvals.
_STATUS_OF = {
    "approved": "approved",
    "refunded": "approved",
    "failed": "failed",
    "denied": "denied",
    "reversed": "reversed",
    "backend_reversed": "reversed",
}


def status_count_minutes(path) -> list[tuple[datetime, dict[str, int]]]:
    """The file's minutes, oldest first, each with its counts per status."""
    by_minute: dict[datetime, dict[str, int]] = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            minute = datetime.fromisoformat(row["timestamp"]).replace(tzinfo=UTC)
            counts = by_minute.setdefault(
                minute, {"approved": 0, "failed": 0, "denied": 0, "reversed": 0}
            )
            counts[_STATUS_OF[row["status"]]] += int(row["count"])
    return sorted(by_minute.items())


def seed_counts(
    partner,
    minutes: list[tuple[datetime, dict[str, int]]],
    *,
    shift: timedelta = timedelta(0),
    failing_share: float = 0.0,
    blips: tuple[datetime, ...] = (),
) -> None:
    """The minutes as the partner's MinuteStat rows, moved by ``shift``. ``failing_share`` of
    each minute's approvals become failures (a slow burn); a blip minute fails half of its
    transactions."""
    rows = []
    for minute, counts in minutes:
        minute = minute + shift
        approved, failed = counts["approved"], counts["failed"]
        turned = round(approved * failing_share)
        if minute in blips:
            turned = approved // 2
        approved, failed = approved - turned, failed + turned
        total = approved + failed + counts["denied"] + counts["reversed"]
        rows.append(
            MinuteStat(
                partner=partner,
                minute=minute,
                total=total,
                approved=approved,
                failed=failed,
                denied=counts["denied"],
                reversed=counts["reversed"],
                latency_count=0,
                updated_at=timezone.now(),
            )
        )
    MinuteStat.objects.bulk_create(rows, batch_size=5000)
