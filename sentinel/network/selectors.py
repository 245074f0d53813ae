"""Reads of the transaction graph: the edges next to a set of nodes, findings, fan-in/out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection

from .detectors import IN, OUT, Edge, Request
from .models import NetworkFinding, NetworkPattern

# Edges read per node and request: a hub's thousands of transfers cannot flood a search (the
# earliest are read walking forward, the latest walking back: those a time-ordered path uses).
EDGES_PER_NODE = 20

_ADJACENT = """
SELECT q.i, e.transaction_id, e.partner_id, e.source, e.target, e.amount, e.occurred_at
FROM unnest(%s::bigint[], %s::varchar[], %s::numeric[], %s::numeric[], %s::timestamptz[],
            %s::timestamptz[]) WITH ORDINALITY AS q(partner_id, node, lo, hi, since, until, i)
CROSS JOIN LATERAL (
    SELECT t.transaction_id, t.partner_id, t.source, t.target, t.amount, t.occurred_at
    FROM network_transfer t
    WHERE t.partner_id = q.partner_id AND t.{near} = q.node
      AND t.occurred_at BETWEEN q.since AND q.until
      AND (q.lo IS NULL OR t.amount BETWEEN q.lo AND q.hi)
    ORDER BY t.occurred_at {order}
    LIMIT {limit}
) e
"""


def server_side_cursor():
    """A cursor that sends parameters apart from the query (server-side binding): Django's
    own interpolates each array element into the SQL text in Python, which cost more worker
    CPU than the whole search."""
    connection.ensure_connection()
    return connection.connection.cursor()


def transfers_adjacent(direction: str, requests: Sequence[Request]) -> list[list[Edge]]:
    """For each request, the edges out of (``OUT``) or into (``IN``) its node that match it;
    one query for all of them."""
    if direction not in (OUT, IN):
        raise ValueError(f"direction must be {OUT!r} or {IN!r}, not {direction!r}")
    near, order = ("source", "ASC") if direction == OUT else ("target", "DESC")
    sql = _ADJACENT.format(near=near, order=order, limit=EDGES_PER_NODE)
    rows = [(r.partner_id, r.node, r.lo, r.hi, r.since, r.until) for r in requests]
    columns = [[row[i] for row in rows] for i in range(6)]
    answers: list[list[Edge]] = [[] for _ in requests]
    with server_side_cursor() as cursor:
        cursor.execute(sql, columns)
        for i, *edge in cursor.fetchall():
            answers[i - 1].append(Edge._make(edge))
    return answers


_COUNTERPARTS = """
SELECT q.i, count(DISTINCT t.{other})
FROM unnest(%s::bigint[], %s::varchar[], %s::timestamptz[], %s::timestamptz[])
     WITH ORDINALITY AS q(partner_id, node, since, until, i)
JOIN network_transfer t ON t.partner_id = q.partner_id AND t.{near} = q.node
     AND t.occurred_at BETWEEN q.since AND q.until
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
    with server_side_cursor() as cursor:
        columns = [[row[i] for row in nodes] for i in range(4)]
        cursor.execute(_COUNTERPARTS.format(near=near, other=other), columns)
        for i, count in cursor.fetchall():
            counts[i - 1] = count
    return counts


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
