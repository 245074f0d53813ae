"""Reads of the transaction graph: the edges next to a set of nodes, findings, fan-in/out,
proximity to known-bad accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.shortcuts import get_object_or_404

from sentinel.db import execute_with_records
from transactions.models import Account, Transaction

from .choices import ParameterChangeState
from .detectors import IN, OUT, Edge, Request
from .models import (
    NetworkFinding,
    NetworkPattern,
    ParameterBacktest,
    ParameterChange,
    ParametersInForce,
    ParameterVersion,
    Transfer,
)

# Edges read per node and request: a hub's thousands of transfers cannot flood a search (the
# earliest are read walking forward, the latest walking back: those a time-ordered path uses).
# The searches pass the version in force's ``edges_per_node``; this is the installed value.
EDGES_PER_NODE = 20

_ADJACENT = """
SELECT q.i, e.transaction_id, e.partner_id, e.source, e.target, e.amount, e.occurred_at
FROM json_to_recordset(%s::json) AS q(
    i int, p bigint, n varchar, lo numeric, hi numeric, s timestamptz, u timestamptz)
CROSS JOIN LATERAL (
    SELECT t.transaction_id, t.partner_id, t.source, t.target, t.amount, t.occurred_at
    FROM network_transfer t
    WHERE t.partner_id = q.p AND t.{near} = q.n
      AND t.occurred_at BETWEEN q.s AND q.u
      AND (q.lo IS NULL OR t.amount BETWEEN q.lo AND q.hi)
    ORDER BY t.occurred_at {order}
    LIMIT {limit}
) e
"""


def transfers_adjacent(
    direction: str, requests: Sequence[Request], *, limit: int = EDGES_PER_NODE
) -> list[list[Edge]]:
    """For each request, the edges out of (``OUT``) or into (``IN``) its node that match it,
    at most ``limit`` per node; one query for all of them. The requests travel as one JSON
    document (orjson): psycopg's array parameters are dumped element by element in Python,
    which cost the worker more than the search itself."""
    if direction not in (OUT, IN):
        raise ValueError(f"direction must be {OUT!r} or {IN!r}, not {direction!r}")
    near, order = ("source", "ASC") if direction == OUT else ("target", "DESC")
    sql = _ADJACENT.format(near=near, order=order, limit=int(limit))
    records = [
        {"i": i, "p": r.partner_id, "n": r.node, "lo": r.lo, "hi": r.hi, "s": r.since, "u": r.until}
        for i, r in enumerate(requests)
    ]
    answers: list[list[Edge]] = [[] for _ in requests]
    for i, *edge in execute_with_records(sql, records):
        answers[i].append(Edge._make(edge))
    return answers


_COUNTERPARTS = """
SELECT q.i, count(DISTINCT t.{other})
FROM json_to_recordset(%s::json) AS q(i int, p bigint, n varchar, s timestamptz, u timestamptz)
JOIN network_transfer t ON t.partner_id = q.p AND t.{near} = q.n
     AND t.occurred_at BETWEEN q.s AND q.u
GROUP BY q.i
"""


def counterparts_count(
    direction: str, nodes: Sequence[tuple[int, str, datetime, datetime]]
) -> list[int]:
    """Per (partner, node, since, until): distinct accounts it sent to (``OUT``) or received
    from (``IN``) in that time."""
    near, other = ("source", "target") if direction == OUT else ("target", "source")
    counts = [0] * len(nodes)
    if not nodes:
        return counts
    records = [
        {"i": i, "p": partner_id, "n": node, "s": since, "u": until}
        for i, (partner_id, node, since, until) in enumerate(nodes)
    ]
    for i, count in execute_with_records(_COUNTERPARTS.format(near=near, other=other), records):
        counts[i] = count
    return counts


class TransferValue(NamedTuple):
    amount: Decimal
    currency: str
    occurred_at: datetime
    reporting_currency: str  # the partner's


def transfer_values(*, transaction_ids) -> dict[object, TransferValue]:
    """What each transfer moved and in which currency (the edge table keeps no currency):
    read only for the hops of a cycle or loop found, to compare their values."""
    rows = Transaction.objects.filter(pk__in=list(transaction_ids)).values_list(
        "pk", "amount", "currency", "occurred_at", "partner__reporting_currency"
    )
    return {pk: TransferValue(*rest) for pk, *rest in rows}


def findings_of(*, transaction_ids: Sequence) -> dict[object, NetworkFinding]:
    return {
        finding.transaction_id: finding
        for finding in NetworkFinding.objects.filter(transaction_id__in=transaction_ids)
    }


def transfers_span(*, partner_id: int) -> tuple[datetime, datetime] | None:
    """When the partner's graph starts and ends; None when it has no edge."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(occurred_at), max(occurred_at) FROM network_transfer WHERE partner_id = %s",
            [partner_id],
        )
        first, last = cursor.fetchone()
    return None if first is None else (first, last)


def patterns_of(*, partner_id: int, kinds: Sequence[str]) -> list[NetworkPattern]:
    """The partner's rings of these shapes, newest first."""
    return list(NetworkPattern.objects.filter(partner_id=partner_id, kind__in=kinds))


def parameter_change_pending() -> ParameterChange | None:
    """The parameter request awaiting approval (there is at most one)."""
    return (
        ParameterChange.objects.filter(state=ParameterChangeState.PENDING)
        .select_related("version", "base_version", "requested_by")
        .first()
    )


def parameter_changes(*, limit: int = 20) -> list[ParameterChange]:
    """The latest parameter requests, newest first, whatever became of them."""
    return list(
        ParameterChange.objects.select_related("version", "requested_by", "decided_by")[:limit]
    )


def parameters_in_force() -> ParametersInForce | None:
    """The row naming the version in force (None only in an emptied database)."""
    return ParametersInForce.objects.select_related("version", "change").filter(pk=1).first()


def parameter_version_before(version: ParameterVersion) -> ParameterVersion | None:
    """The latest version older than ``version`` that was ever in force (put in force by an
    approved request, or in force when one was made): what a rollback puts back."""
    approved = ParameterChange.objects.filter(state=ParameterChangeState.APPROVED)
    been = {
        pk
        for pair in approved.values_list("version_id", "base_version_id")
        for pk in pair
        if pk is not None
    }
    return (
        ParameterVersion.objects.filter(pk__in=been, number__lt=version.number)
        .order_by("-number")
        .first()
    )


# Distinct counterparties of each node in a time range, either direction, at most ``limit``
# of them (a hub's thousands are not read: one more than the hub bound says it is one).
_COUNTERPARTS_WITHIN = """
SELECT q.node, n.other
FROM json_to_recordset(%s::json) AS q(node varchar)
CROSS JOIN LATERAL (
    SELECT e.other FROM (
        SELECT t.target AS other FROM network_transfer t
        WHERE t.partner_id = %s AND t.source = q.node AND t.occurred_at BETWEEN %s AND %s
        UNION
        SELECT t.source FROM network_transfer t
        WHERE t.partner_id = %s AND t.target = q.node AND t.occurred_at BETWEEN %s AND %s
    ) e
    LIMIT %s
) n
"""


def counterparts_within(
    *, partner_id: int, nodes: Sequence[str], since: datetime, until: datetime, limit: int
) -> dict[str, list[str]]:
    """Per node, the distinct accounts it paid or was paid by between ``since`` and ``until``
    (at most ``limit``); one query."""
    found: dict[str, list[str]] = {}
    if not nodes:
        return found
    window = [partner_id, since, until]
    records = [{"node": node} for node in nodes]
    for node, other in execute_with_records(_COUNTERPARTS_WITHIN, records, *window, *window, limit):
        found.setdefault(node, []).append(other)
    return found


_PROXIMITY = """
SELECT p.partner_id, p.account, p.hops, p.seed, p.seed_reason, p.seed_note, p.path
FROM json_to_recordset(%s::json) AS q(partner_id bigint, account varchar)
JOIN network_accountproximity p ON p.partner_id = q.partner_id AND p.account = q.account
"""


class Proximity(NamedTuple):
    partner_id: int
    account: str
    hops: int
    seed: str
    seed_reason: str
    seed_note: str
    path: list[str]


def proximity_of(*, accounts: Sequence[tuple[int, str]]) -> dict[tuple[int, str], Proximity]:
    """The stored proximity of these (partner, account) pairs; a pair beyond the bound is
    missing. One indexed query (the scoring path reads it once per batch)."""
    keys = sorted({key for key in accounts if key[1]})
    if not keys:
        return {}
    records = [{"partner_id": partner_id, "account": account} for partner_id, account in keys]
    rows = [Proximity._make(row) for row in execute_with_records(_PROXIMITY, records)]
    return {(row.partner_id, row.account): row for row in rows}


# --- Back-tests of a parameter version (backtests.py) -----------------------------------------


def transfers_between(*, partner_id: int, after: datetime, before: datetime):
    """The partner's edges over ``(after, before]`` as ``Edge`` tuples, oldest first, read in
    chunks (a back-test may cover a month of a large partner's graph)."""
    rows = (
        _transfers_within(partner_id, after, before)
        .order_by("occurred_at", "transaction_id")
        .values_list("transaction_id", "partner_id", "source", "target", "amount", "occurred_at")
    )
    return (Edge(*row) for row in rows.iterator(chunk_size=2000))


def _transfers_within(partner_id: int, after: datetime, before: datetime):
    return Transfer.objects.filter(
        partner_id=partner_id, occurred_at__gt=after, occurred_at__lte=before
    )


def transfers_count(*, partner_id: int, after: datetime, before: datetime) -> int:
    return _transfers_within(partner_id, after, before).count()


def transfers_any(*, partner_id: int, after: datetime, before: datetime) -> bool:
    """Whether the graph holds any of the partner's transfers over ``(after, before]`` (asked
    in the request: cheaper than counting a large partner's month)."""
    return _transfers_within(partner_id, after, before).exists()


def partner_accounts(*, partner_id: int, external_ids: Sequence[str]) -> set[str]:
    """Which of these ids are the partner's customers' accounts (they have a page)."""
    return set(
        Account.objects.filter(
            partner_id=partner_id, external_id__in=list(external_ids)
        ).values_list("external_id", flat=True)
    )


def transaction_references(*, transaction_ids: Sequence) -> dict[object, str]:
    """Each transaction's id as the partner sent it, by its own id."""
    return dict(
        Transaction.objects.filter(id__in=list(transaction_ids)).values_list("id", "external_id")
    )


def parameter_backtests(*, version: ParameterVersion, limit: int = 10) -> list[ParameterBacktest]:
    return list(
        ParameterBacktest.objects.filter(version=version).select_related(
            "baseline", "partner", "requested_by"
        )[:limit]
    )


def parameter_backtest_get(*, backtest_id: int) -> ParameterBacktest:
    return get_object_or_404(
        ParameterBacktest.objects.select_related("version", "baseline", "partner"),
        pk=backtest_id,
    )
