"""The searches' bounds on hand-built graphs, without a database: ``detect`` only sees the
graph through its ``fetch`` argument, here a list of edges filtered the way the SQL does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sentinel.network.detectors import OUT, Edge, Parameters, detect

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _edge(n: int, source: str, target: str, amount: str, hours: float) -> Edge:
    return Edge(n, 1, source, target, Decimal(amount), T0 + timedelta(hours=hours))


class Graph:
    """The edges, answering requests as selectors.transfers_adjacent does; counts them."""

    def __init__(self, edges):
        self.edges, self.requests = list(edges), 0

    def __call__(self, direction, requests):
        self.requests += len(requests)
        near = "source" if direction == OUT else "target"
        return [
            [
                e
                for e in self.edges
                if getattr(e, near) == r.node
                and r.since <= e.at <= r.until
                and (r.lo is None or r.lo <= e.amount <= r.hi)
            ][:20]
            for r in requests
        ]


def test_a_twelve_hop_round_trip_is_found_and_a_thirteen_hop_one_is_not():
    for hops, found in ((12, True), (13, False)):
        nodes = [f"n{i}" for i in range(hops)]
        edges = [_edge(i, nodes[i], nodes[(i + 1) % hops], "1000", hours=i) for i in range(hops)]
        new = edges[-1]

        findings = detect([new], Graph(edges), Parameters())

        assert (len(findings[new.id].cycle) if new.id in findings else 0) == (hops if found else 0)


def test_a_hub_paying_hundreds_of_accounts_costs_at_most_the_visit_budget():
    hub_edges = [_edge(i, "hub", f"x{i}", "50", hours=1) for i in range(500)]
    onward = [_edge(1000 + i, f"x{i}", f"y{i}", "50", hours=2) for i in range(500)]
    new = _edge(9999, "a", "hub", "50", hours=0)
    graph = Graph([*hub_edges, *onward, new])

    detect([new], graph, Parameters(max_visits=32))

    assert graph.requests <= 4 * 32  # four walks, each expanding at most 32 nodes


def test_amounts_growing_along_the_way_are_not_carried():
    edges = [
        _edge(1, "a", "b", "1000", hours=0),
        _edge(2, "b", "c", "1015", hours=1),  # more than it got: not the same sum less fees
        _edge(3, "c", "d", "1030", hours=2),
    ]

    findings = detect([edges[2]], Graph(edges), Parameters())

    assert edges[2].id not in findings or len(findings[edges[2].id].carried) < 3
