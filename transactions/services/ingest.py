"""Ingest: validate partner payloads and store each accepted transaction exactly once.

Storing is all this module does. Handing accepted transactions on to profiling and scoring is
the pipeline's job (``sentinel.pipeline.queue``): the API calls the pipeline, which calls this.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property

from django.db import connection
from django.utils import timezone

from sentinel.db import execute_with_records
from sentinel.ids import uuid7

from ..models import PartnerBank, Transaction
from ..schemas import TransactionIn, validate_transaction


@dataclass
class IngestResult:
    """What happened to one submitted transaction."""

    status: str  # created | duplicate | conflict | invalid
    id: uuid.UUID | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    stored: Transaction | None = None  # the row found for a duplicate or conflict
    row: dict | None = field(default=None, repr=False)  # the columns of a new transaction
    partner: PartnerBank | None = field(default=None, repr=False)

    @cached_property
    def transaction(self) -> Transaction | None:
        """The stored transaction (built from its columns when this call created it)."""
        if self.stored is not None or self.row is None:
            return self.stored
        instance = Transaction(**self.row)
        instance.partner = self.partner
        instance._state.adding, instance._state.db = False, "default"
        return instance


def _columns(*, partner: PartnerBank, data: TransactionIn, received_at: datetime) -> dict:
    """The transaction's column values, ready for the INSERT."""
    row = {
        "id": uuid7(),
        "partner_id": partner.pk,
        "external_id": data.external_id,
        "occurred_at": data.occurred_at,
        "received_at": received_at,
        "amount": data.amount,
        "currency": data.currency,
        "type": data.type,
        "status": data.status,
        "direction": data.direction,
        "channel": data.channel or "",
        "device_id": data.device_id or "",
        "ip_address": data.ip_address,
        "product": data.product or "",
        "acquirer": data.acquirer or "",
        "card_type": data.card_type or "",
        "mcc": data.mcc or "",
        "latency_ms": data.latency_ms,
        "metadata": data.metadata,
        "payload_hash": data.fingerprint(),
        "profiled_at": None,
    }
    for side in ("originator", "beneficiary"):
        party = getattr(data, side)
        for name in ("account_id", "customer_id", "name", "country", "bank"):
            row[f"{side}_{name}"] = getattr(party, name) or ""
    return row


def transactions_ingest(*, partner: PartnerBank, payloads: Sequence[object]) -> list[IngestResult]:
    """Validate and store transactions idempotently, one result per payload, in order.

    Ids are generated here, so after ``INSERT ... ON CONFLICT DO NOTHING`` the row that carries
    our id is ours (created); any other row with the same external_id was stored before, by an
    earlier or a concurrent request: the same payload is a duplicate, a different one a conflict.
    Nothing here queues them for scoring: the caller (the pipeline's ``transactions_accept``)
    does, and anything left unqueued is found by the pipeline's sweep.
    """
    received_at = timezone.now()
    results: list[IngestResult] = []
    for payload in payloads:
        data, errors = validate_transaction(payload)
        if data is None:
            results.append(IngestResult(status="invalid", errors=errors))
            continue
        row = _columns(partner=partner, data=data, received_at=received_at)
        results.append(IngestResult(status="pending", id=row["id"], row=row, partner=partner))
    pending = [result for result in results if result.status == "pending"]
    if not pending:
        return results

    inserted = _insert_new([result.row for result in pending])
    earlier = {r.row["external_id"] for r in pending if r.id not in inserted}
    stored: dict[str, Transaction] = {}
    if earlier:
        rows = Transaction.objects.filter(partner=partner, external_id__in=earlier)
        stored = {row.external_id: row for row in rows}
    for result in pending:
        if result.id in inserted:
            result.status = "created"
            continue
        result.stored = stored[result.row["external_id"]]
        same = result.stored.payload_hash == result.row["payload_hash"]
        result.status = "duplicate" if same else "conflict"
        result.id, result.row = result.stored.id, None
    return results


def _insert_new(rows: list[dict]) -> set:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the ids that were actually stored.

    Written in SQL because the ORM's bulk_create(ignore_conflicts=True) cannot say which rows
    it inserted. The rows travel as one JSON parameter (sentinel.db). Rows go in external_id
    order so concurrent overlapping batches lock the unique index in the same order.
    """
    return {row[0] for row in execute_with_records(_insert_sql(), rows)}


@cache
def _insert_sql() -> str:
    fields = Transaction._meta.concrete_fields
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    types = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
    table = quote(Transaction._meta.db_table)
    return (
        f"INSERT INTO {table} ({names}) "  # noqa: S608  model metadata only
        f"SELECT {names} FROM json_to_recordset(%s::json) AS r({types}) "
        "ORDER BY external_id "
        "ON CONFLICT (partner_id, external_id) DO NOTHING RETURNING id"
    )


def transaction_build(
    *, partner: PartnerBank, payload: object
) -> tuple[Transaction | None, dict[str, list[str]]]:
    """An unsaved transaction from a payload, validated like ingest (for "try it" in the admin);
    (None, errors) when the payload is invalid."""
    data, errors = validate_transaction(payload)
    if data is None:
        return None, errors
    instance = Transaction(**_columns(partner=partner, data=data, received_at=timezone.now()))
    instance.partner = partner
    return instance, {}


def transaction_ingest(*, partner: PartnerBank, payload: object) -> IngestResult:
    return transactions_ingest(partner=partner, payloads=[payload])[0]
