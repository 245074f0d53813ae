"""Replay of per-minute status counts (``timestamp,status,count``) as stored transactions.

Parsing is pure and reports every bad row with its line number; the import is all or nothing
(one database transaction), idempotent (external ids derive from the minute, status and
ordinal, so a second import of the same file adds nothing), and rebuilds the partner's minute
aggregates for the range it covered.

Replayed transactions are history, not live traffic: they are stored as already profiled, so
the profiling sweep and the rule engine leave them alone (scoring half a million synthetic
card payments from one account would only flood investigators with alerts), and their ids are
UUIDv7 of their own ``occurred_at``, so the aggregation's id watermark does not read them
again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from transactions.choices import Direction, TransactionStatus, TransactionType
from transactions.models import PartnerBank

from .aggregation import minute_stats_rebuild

# Contract statuses map to themselves; anything else needs an explicit --map.
DEFAULT_MAPPING: Mapping[str, tuple[str, str]] = {
    status: (status, TransactionType.CARD_PAYMENT) for status in TransactionStatus.values
}
SKIP = "skip"
MAX_REPORTED_ERRORS = 50


class ReplayError(Exception):
    """The file cannot be imported; ``errors`` are "line N: problem" strings."""

    def __init__(self, errors: list[str], total: int | None = None):
        self.errors = errors
        self.total = total if total is not None else len(errors)
        super().__init__(f"{self.total} problems")


@dataclass(frozen=True)
class CountRow:
    line: int
    minute: datetime
    source_status: str
    status: str
    type: str
    count: int


def parse_mapping(items: Iterable[str]) -> dict[str, tuple[str, str] | None]:
    """``--map a=b`` items on top of the default; ``b`` is a status, ``status:type`` or
    ``skip``. None means "skip rows with this status"."""
    mapping: dict[str, tuple[str, str] | None] = dict(DEFAULT_MAPPING)
    for item in items:
        source, sep, target = item.partition("=")
        source, target = source.strip(), target.strip()
        if not sep or not source or not target:
            raise ReplayError([f"--map {item!r}: expected SOURCE=STATUS[:TYPE] or SOURCE=skip"])
        if target == SKIP:
            mapping[source] = None
            continue
        status, _, kind = target.partition(":")
        kind = kind or TransactionType.CARD_PAYMENT
        if status not in TransactionStatus.values:
            raise ReplayError(
                [f"--map {item!r}: {status!r} is not one of {', '.join(TransactionStatus.values)}"]
            )
        if kind not in TransactionType.values:
            raise ReplayError([f"--map {item!r}: {kind!r} is not a transaction type"])
        mapping[source] = (status, kind)
    return mapping


def parse_counts(text: str, mapping: Mapping[str, tuple[str, str] | None]) -> list[CountRow]:
    """Every row, or ReplayError listing every bad one (line 1 is the header)."""
    reader = csv.reader(io.StringIO(text))
    header = [name.strip().lower() for name in next(reader, [])]
    if header[:3] != ["timestamp", "status", "count"]:
        raise ReplayError([f"line 1: expected the header timestamp,status,count; got {header}"])
    rows, errors = [], []
    for line, fields in enumerate(reader, start=2):
        if not fields or all(not field.strip() for field in fields):
            continue
        row, problem = _row(line, fields, mapping)
        if problem:
            errors.append(f"line {line}: {problem}")
        elif row is not None:
            rows.append(row)
    if errors:
        raise ReplayError(errors[:MAX_REPORTED_ERRORS], total=len(errors))
    return rows


def _row(
    line: int, fields: list[str], mapping: Mapping[str, tuple[str, str] | None]
) -> tuple[CountRow | None, str | None]:
    if len(fields) != 3:
        return None, f"expected 3 fields, got {len(fields)}"
    raw_time, status, raw_count = (field.strip() for field in fields)
    problems = []
    minute = _timestamp(raw_time)
    if minute is None:
        problems.append(f"unparseable timestamp {raw_time!r}")
    if status not in mapping:
        problems.append(f"unknown status {status!r} (map it with --map {status}=STATUS or =skip)")
    try:
        count = int(raw_count)
    except ValueError:
        count = None
        problems.append(f"count {raw_count!r} is not a whole number")
    if count is not None and count < 0:
        problems.append(f"negative count {count}")
    if problems:
        return None, "; ".join(problems)
    target = mapping[status]
    if target is None or count == 0:
        return None, None
    return CountRow(line, minute, status, target[0], target[1], count), None


def _timestamp(raw: str) -> datetime | None:
    """ISO 8601; without an offset the time is UTC. Seconds are dropped (minute buckets)."""
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class ReplayResult:
    rows: int
    transactions: int
    created: int
    start: datetime | None
    end: datetime | None


_COLUMNS = (
    "id",
    "partner_id",
    "external_id",
    "occurred_at",
    "received_at",
    "amount",
    "currency",
    "type",
    "status",
    "direction",
    "channel",
    "originator_account_id",
    "originator_customer_id",
    "originator_name",
    "originator_country",
    "originator_bank",
    "beneficiary_account_id",
    "beneficiary_customer_id",
    "beneficiary_name",
    "beneficiary_country",
    "beneficiary_bank",
    "device_id",
    "product",
    "acquirer",
    "card_type",
    "mcc",
    "metadata",
    "payload_hash",
    "profiled_at",
)


def transactions_replay(
    *, partner: PartnerBank, rows: list[CountRow], currency: str = "USD"
) -> ReplayResult:
    """Store the counted transactions (all or nothing) and rebuild the partner's minute
    aggregates over the range."""
    if not rows:
        return ReplayResult(0, 0, 0, None, None)
    now = timezone.now()
    start = min(row.minute for row in rows)
    end = max(row.minute for row in rows) + timedelta(minutes=1)
    columns = ", ".join(_COLUMNS)
    with db_transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE replay_tx "
                "(LIKE transactions_transaction INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            raw = cursor.cursor  # psycopg's own cursor, for COPY
            with raw.copy(f"COPY replay_tx ({columns}) FROM STDIN") as copy:
                for record in _records(partner, rows, now, currency):
                    copy.write_row(record)
            cursor.execute(
                f"INSERT INTO transactions_transaction ({columns}) "  # noqa: S608  constants
                f"SELECT {columns} FROM replay_tx "
                "ON CONFLICT (partner_id, external_id) DO NOTHING"
            )
            created = cursor.rowcount
            cursor.execute("DROP TABLE replay_tx")  # ON COMMIT is too late inside an outer atomic
        minute_stats_rebuild(partner_id=partner.pk, start=start, end=end)
    total = sum(row.count for row in rows)
    return ReplayResult(len(rows), total, created, start, end)


def _records(partner: PartnerBank, rows: list[CountRow], now: datetime, currency: str):
    metadata = '{"source": "import_status_counts"}'
    for row in rows:
        inbound = row.type in (TransactionType.REFUND, TransactionType.CASH_DEPOSIT)
        direction = Direction.INBOUND if inbound else Direction.OUTBOUND
        step = 60.0 / row.count
        stamp = f"{row.minute:%Y%m%d%H%M}"
        for ordinal in range(row.count):
            occurred = row.minute + timedelta(seconds=ordinal * step)
            external_id = f"replay:{stamp}:{row.source_status}:{ordinal}"
            yield (
                _uuid7_at(occurred),
                partner.pk,
                external_id,
                occurred,
                now,
                "1.00",
                currency,
                row.type,
                row.status,
                direction,
                "",
                "replay-customer",
                "replay-customer",
                "",
                "",
                "",
                "replay-merchant",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                metadata,
                hashlib.sha256(f"{external_id}:{row.status}:{row.type}".encode()).hexdigest(),
                now,
            )


def _uuid7_at(moment: datetime) -> uuid.UUID:
    unix_ms = int(moment.timestamp() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (
        (unix_ms & ((1 << 48) - 1)) << 80
        | 0x7 << 76
        | (rand >> 68) << 64
        | 0b10 << 62
        | (rand & ((1 << 62) - 1))
    )
    return uuid.UUID(int=value)
