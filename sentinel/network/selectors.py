"""Reads of the transaction graph: the edges next to a set of nodes, findings, fan-in/out,
proximity to known-bad accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import orjson
from django.db import connection
from django.db.models import F
from django.shortcuts import get_object_or_404

from sentinel.db import execute_with_records
from transactions.models import Account, Transaction

from .choices import ParameterChangeState
from .detectors import (
    IN,
    OUT,
    Edge,
    Parameters,
    Prospects,
    Request,
    chain_band,
    round_sum,
    value_band,
)
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


def _in_band(prefix: str = "") -> str:
    """Whether an edge ``t`` lies in a request ``q``'s band (``lo`` to ``hi`` by amount, in the
    currency ``c`` only when named, else ``vlo`` to ``vhi`` by value; the columns named with
    ``prefix`` where a record carries two bands): Request.admits in SQL, for the walks'
    requests and the probe's value loop and layering chain alike."""
    lo, hi, c, vlo, vhi = (f"q.{prefix}{column}" for column in ("lo", "hi", "c", "vlo", "vhi"))
    return f"""(t.amount BETWEEN {lo} AND {hi} AND ({c} IS NULL OR t.currency = {c})
               OR t.value BETWEEN {vlo} AND {vhi})"""


_IN_BAND = _in_band()

# The requests travel as one JSON array of arrays (orjson encodes tuples in C, without a
# dictionary per request) and the times come back as microseconds since the epoch: Django's
# timestamptz loader is Python (a regular expression per value), a third of a level's cost.
_ADJACENT = """
SELECT q.i, e.transaction_id, e.source, e.target, e.amount,
       (extract(epoch FROM e.occurred_at) * 1000000)::bigint, e.currency, e.value, e.arrival
FROM (
    SELECT a.i - 1 AS i, (a.r->>0)::bigint AS p, a.r->>1 AS n, (a.r->>2)::numeric AS lo,
           (a.r->>3)::numeric AS hi, (a.r->>4)::timestamptz AS s, (a.r->>5)::timestamptz AS u,
           a.r->>6 AS c, (a.r->>7)::numeric AS vlo, (a.r->>8)::numeric AS vhi,
           (a.r->>9)::bigint AS k
    FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS a(r, i)
    OFFSET 0
) q
CROSS JOIN LATERAL (
    SELECT t.transaction_id, t.source, t.target, t.amount, t.occurred_at, t.currency, t.value,
           t.arrival
    FROM network_transfer t
    WHERE t.partner_id = q.p AND t.{near} = q.n
      AND t.occurred_at BETWEEN q.s AND q.u
      AND (q.lo IS NULL OR {band})
      AND (q.k IS NULL OR t.arrival IS NULL OR t.arrival <= q.k)
    ORDER BY t.occurred_at {order}
    LIMIT {limit}
) e
"""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _request_rows(requests: Sequence[Request]) -> list[tuple]:
    return [
        (
            r.partner_id,
            r.node,
            _text(r.lo),
            _text(r.hi),
            r.since,
            r.until,
            r.currency,
            _text(r.value_lo),
            _text(r.value_hi),
            r.arrived_by,
        )
        for r in requests
    ]


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def transfers_adjacent(
    direction: str, requests: Sequence[Request], *, limit: int = EDGES_PER_NODE
) -> list[Sequence[Edge]]:
    """For each request, the edges out of (``OUT``) or into (``IN``) its node that match it,
    at most ``limit`` per node; one query for all of them. The requests travel as one JSON
    document (orjson): psycopg's array parameters are dumped element by element in Python,
    which cost the worker more than the search itself."""
    if direction not in (OUT, IN):
        raise ValueError(f"direction must be {OUT!r} or {IN!r}, not {direction!r}")
    # In time order only, the index's: a second sort key (arrival, for edges at one instant)
    # let the planner sort a node's every edge in the range before the LIMIT, a hub's all.
    near, order = ("source", "ASC") if direction == OUT else ("target", "DESC")
    sql = _ADJACENT.format(near=near, order=order, limit=int(limit), band=_IN_BAND)
    # Most requests find nothing: they share one empty tuple rather than a list each.
    answers: list = [()] * len(requests)
    epoch, micro = _EPOCH, timedelta(microseconds=1)
    rows = execute_with_records(sql, _request_rows(requests))
    for i, tx_id, source, target, amount, at, currency, value, arrival in rows:
        if not answers[i]:
            answers[i] = []
        answers[i].append(
            Edge(
                tx_id,
                requests[i].partner_id,
                source,
                target,
                amount,
                epoch + at * micro,
                currency,
                value,
                arrival,
            )
        )
    return answers


# Per new transfer u → v, whether each walk could find anything (detectors.detect's rules at
# their start), one EXISTS each on the same indexes as the walks. A round trip's last hop is a
# transfer x → u within the window, x being v or reached by a hop into it after the window
# opened and before that last hop left; the other walks, their first level. Each range is a
# hundredth of a cent and a second wider than the walks' own, so that a bound computed here a
# little differently from Python's Decimal arithmetic can only say "may" more often, never
# less. A value loop's first and last hops lie in the new transfer's value band, and a
# layering chain's first hop in u in its chain band: the walks' own (detectors.value_band,
# chain_band, computed in Python and sent with the record), tested as the walks test them
# (_in_band; the chain's columns are named with a ``c``). The
# records are read once (MATERIALIZED, jsonb): a json element is parsed again at every ->>, in
# every EXISTS (95 ms a batch of 1,000 on AMLSim, 20-30 ms this way).
_PROSPECTS = f"""
WITH q AS MATERIALIZED (
    SELECT a.i - 1 AS i, (a.r->>0)::bigint AS p, a.r->>1 AS u, a.r->>2 AS v,
           (a.r->>3)::numeric AS a, (a.r->>4)::timestamptz AS at, (a.r->>5)::bool AS carry,
           (a.r->>6)::numeric AS lo, (a.r->>7)::numeric AS hi, a.r->>8 AS c,
           (a.r->>9)::numeric AS vlo, (a.r->>10)::numeric AS vhi,
           (a.r->>11)::numeric AS clo, (a.r->>12)::numeric AS chi, a.r->>13 AS cc,
           (a.r->>14)::numeric AS cvlo, (a.r->>15)::numeric AS cvhi
    FROM jsonb_array_elements(%(records)s::jsonb) WITH ORDINALITY AS a(r, i)
), found AS MATERIALIZED (
    SELECT q.i,
        EXISTS (
            SELECT FROM network_transfer t
            WHERE t.partner_id = q.p AND t.target = q.u
              AND t.occurred_at BETWEEN q.at - %(round_trip)s - %(slack)s AND q.at + %(slack)s
              AND (t.source = q.v OR EXISTS (
                  SELECT FROM network_transfer h
                  WHERE h.partner_id = q.p AND h.target = t.source
                    AND h.occurred_at BETWEEN q.at - %(round_trip)s - %(slack)s
                                          AND t.occurred_at + %(slack)s
              ))
        ) AS round_trip,
        q.carry AND EXISTS (
            SELECT FROM network_transfer t
            WHERE t.partner_id = q.p AND t.source = q.v
              AND t.occurred_at BETWEEN q.at - %(horizon)s - %(slack)s
                                    AND q.at + %(horizon)s + %(slack)s
              AND t.amount BETWEEN q.a * (1 - %(fee)s) - 0.0001 AND q.a + 0.0001
        ) AS carried_out,
        q.carry AND EXISTS (
            SELECT FROM network_transfer t
            WHERE t.partner_id = q.p AND t.target = q.u
              AND t.occurred_at BETWEEN q.at - %(horizon)s - %(slack)s
                                    AND q.at + %(horizon)s + %(slack)s
              AND t.amount BETWEEN q.a - 0.0001 AND q.a / (1 - %(fee)s) + 0.0001
        ) AS carried_in,
        EXISTS (
            SELECT FROM network_transfer t
            WHERE t.partner_id = q.p AND t.target = q.u
              AND t.occurred_at BETWEEN q.at - %(forward)s - %(slack)s AND q.at + %(slack)s
              AND {_in_band("c")}
        ) AS layering,
        EXISTS (
            SELECT FROM network_transfer t
            WHERE t.partner_id = q.p AND t.source = q.v
              AND t.occurred_at BETWEEN q.at - %(loop)s - %(slack)s AND q.at + %(slack)s
              AND {_IN_BAND}
        ) AND EXISTS (
            SELECT FROM network_transfer t
            WHERE t.partner_id = q.p AND t.target = q.u
              AND t.occurred_at BETWEEN q.at - %(loop)s - %(slack)s AND q.at + %(slack)s
              AND {_IN_BAND}
        ) AS loop
    FROM q
)
SELECT i, round_trip, carried_out, carried_in, layering, loop FROM found
WHERE round_trip OR carried_out OR carried_in OR layering OR loop
"""  # noqa: S608  a constant fragment


def transfers_prospects(edges: Sequence[Edge], parameters: Parameters) -> list[Prospects]:
    """For each new transfer, whether each of its walks could find anything (detectors.detect
    skips those that cannot); one query, a row back only for the transfers with a prospect.
    Necessary conditions only: a walk told it may can still find nothing. It reads the edges
    whatever their arrival (an index-only read; the walks keep to ``arrived_by``): seeing more
    only says "may" more often."""
    found = [Prospects(False, False, False, False, False)] * len(edges)
    if not edges:
        return found
    records = [
        (
            e.partner_id,
            e.source,
            e.target,
            str(e.amount),
            e.at,
            not round_sum(e, parameters.round_sum),
            *value_band(e, parameters.value_spread),  # its amounts as text (default=str)
            *chain_band(e, parameters),
        )
        for e in edges
    ]
    document = orjson.dumps(records, default=str).decode()
    with connection.cursor() as cursor:
        cursor.execute(
            _PROSPECTS,
            {
                "records": document,
                "round_trip": parameters.round_trip_window,
                "horizon": parameters.horizon,
                "forward": parameters.forward_within,
                "slack": timedelta(seconds=1),
                "fee": parameters.fee_tolerance,
                "loop": parameters.loop_window,
            },
        )
        for i, *prospects in cursor.fetchall():
            found[i] = Prospects(*prospects)
    return found


# Both directions in one statement: the records are encoded and read once.
_COUNTERPARTS = """
SELECT q.i,
    (SELECT count(DISTINCT t.source) FROM network_transfer t
     WHERE t.partner_id = q.p AND t.target = q.n AND t.occurred_at BETWEEN q.s AND q.u),
    (SELECT count(DISTINCT t.target) FROM network_transfer t
     WHERE t.partner_id = q.p AND t.source = q.n AND t.occurred_at BETWEEN q.s AND q.u)
FROM (
    SELECT a.i - 1 AS i, (a.r->>0)::bigint AS p, a.r->>1 AS n, (a.r->>2)::timestamptz AS s,
           (a.r->>3)::timestamptz AS u
    FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS a(r, i)
    OFFSET 0
) q
"""


def counterparts_counts(
    nodes: Sequence[tuple[int, str, datetime, datetime]],
) -> list[tuple[int, int]]:
    """Per (partner, node, since, until): how many distinct accounts paid it (``IN``) and it
    paid (``OUT``) in that time; one query."""
    counts = [(0, 0)] * len(nodes)
    if nodes:
        for i, paid_by, paid in execute_with_records(_COUNTERPARTS, list(nodes)):
            counts[i] = (paid_by, paid)
    return counts


def transfer_arrivals(*, transaction_ids: Sequence) -> dict[object, int | None]:
    """The arrival of each of these transactions' edges in the graph, by transaction id."""
    return dict(
        Transfer.objects.filter(pk__in=transaction_ids).values_list("transaction_id", "arrival")
    )


def findings_of(*, transaction_ids: Sequence) -> dict[object, NetworkFinding]:
    return {
        finding.transaction_id: finding
        for finding in NetworkFinding.objects.filter(transaction_id__in=transaction_ids)
    }


class FindingFigures(NamedTuple):
    """A stored finding's figures, what the ``network`` features read of it."""

    cycle_length: int
    cycle_days: Decimal | None
    cycle_time_ordered: bool
    cycle_value_spread: Decimal | None
    loop_length: int
    carried_hops: int
    chain_depth: int


_FINDING_FIGURES = """
SELECT f.transaction_id, f.cycle_length, f.cycle_days, f.cycle_time_ordered,
       f.cycle_value_spread, f.loop_length, f.carried_hops, f.chain_depth
FROM network_networkfinding f
WHERE f.transaction_id IN (SELECT (json_array_elements_text(%s::json))::uuid)
"""


def finding_figures(*, transaction_ids: Sequence) -> dict[object, FindingFigures]:
    """The findings' figures of these transactions, by transaction id; one query, the ids as
    one JSON document (the ORM's ``__in`` prepares each id in Python, most of the provider's
    cost) and no model instance per row."""
    if not transaction_ids:
        return {}
    rows = execute_with_records(_FINDING_FIGURES, list(transaction_ids))
    return {tx_id: FindingFigures(*figures) for tx_id, *figures in rows}


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
        .order_by("occurred_at", F("arrival").asc(nulls_first=True), "transaction_id")
        .values_list(
            "transaction_id",
            "partner_id",
            "source",
            "target",
            "amount",
            "occurred_at",
            "currency",
            "value",
            "arrival",
        )
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
