"""The searches' bounds on hand-built graphs, without a database: ``detect`` only sees the
graph through its ``fetch`` argument, here a list of edges filtered the way the SQL does."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sentinel.network.detectors import (
    OUT,
    Edge,
    Parameters,
    Prospects,
    detect,
    everyday,
    round_sum,
    value_band,
    value_spread,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _edge(n: int, source: str, target: str, amount: str, hours: float) -> Edge:
    return Edge(n, 1, source, target, Decimal(amount), T0 + timedelta(hours=hours))


class Graph:
    """The edges, answering requests as selectors.transfers_adjacent does; counts them and
    keeps the nodes asked about."""

    def __init__(self, edges):
        self.edges, self.requests, self.asked = list(edges), 0, []

    def __call__(self, direction, requests):
        self.requests += len(requests)
        self.asked += [r.node for r in requests]
        near = "source" if direction == OUT else "target"
        return [
            [e for e in self.edges if getattr(e, near) == r.node and r.admits(e)][:20]
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


def _sum(amount: str, currency: str = "USD") -> Edge:
    return _edge(1, "a", "b", amount, hours=0)._replace(currency=currency)


def test_an_everyday_sum_is_a_whole_one_under_the_bound_in_a_currency_with_cents():
    assert everyday(_sum("25.00"), 1000) and everyday(_sum("780.0000"), 1000)
    assert not everyday(_sum("24.80"), 1000)  # cents: a price, a fee, an exchange
    assert not everyday(_sum("1000.00"), 1000)  # the bound is not an everyday sum
    assert not everyday(_sum("25.00"), 0)  # 0: the exclusion is off
    assert not everyday(_sum("2500", "JPY"), 1000)  # no decimals: every sum is whole


def test_a_round_sum_is_a_multiple_of_the_bound_at_any_size_and_in_any_currency():
    assert round_sum(_sum("20.00"), 10) and round_sum(_sum("30000", "JPY"), 10)
    assert round_sum(_sum("25000.00"), 10)  # far above any everyday sum
    assert not round_sum(_sum("25.00"), 10)  # an everyday sum, not a round one
    assert not round_sum(_sum("20.50"), 10)
    assert not round_sum(_sum("20.00"), 0)  # 0: the exclusion is off


def test_two_everyday_sums_in_a_row_do_not_carry_but_one_with_cents_does():
    friends = [
        _edge(1, "f0", "f1", "25.00", hours=0),
        _edge(2, "f1", "f2", "25.00", hours=30),
        _edge(3, "f2", "f3", "24.80", hours=-400),  # weeks before: the order says nothing
    ]
    fees = [
        _edge(4, "m0", "m1", "780.00", hours=0),  # a whole sum, then fees taken along
        _edge(5, "m1", "m2", "777.35", hours=200),
        _edge(6, "m2", "m3", "770.10", hours=500),
    ]
    graph = Graph([*friends, *fees])

    findings = detect([friends[1], fees[1]], graph, Parameters())
    before = detect([friends[1]], graph, Parameters(everyday_below=0))

    # 25.00 passed on as 25.00 is not followed: only the 24.80 after it
    assert [edge.id for edge in findings[friends[1].id].carried] == [2, 3]
    assert [edge.id for edge in findings[fees[1].id].carried] == [4, 5, 6]
    assert [edge.id for edge in before[friends[1].id].carried] == [1, 2, 3]


def test_a_walk_reads_only_the_edges_that_arrived_before_its_transfer():
    """A batch's later transfers are not yet in the graph for an earlier one's search; an
    edge recorded before arrivals were kept (None) is older than any."""
    older = _edge(1, "z", "a", "1000.37", hours=-5)  # arrival None
    first = _edge(2, "a", "b", "1000.37", hours=0)._replace(arrival=10)
    second = _edge(3, "b", "c", "998.12", hours=5)._replace(arrival=11)
    graph = Graph([older, first, second])

    found = detect([first, second], graph, Parameters())

    assert [edge.id for edge in found[first.id].carried] == [1, 2]  # not yet the hop to c
    assert [edge.id for edge in found[second.id].carried] == [1, 2, 3]
    unordered = detect([first._replace(arrival=None)], graph, Parameters())
    assert [edge.id for edge in unordered[first.id].carried] == [1, 2, 3]


# --- The value loop's band -------------------------------------------------------------------


def _valued(n: int, source: str, target: str, amount: str, hours: float, currency="USD", value=""):
    """An edge in ``currency`` worth ``value`` in the reporting currency (USD): its amount when
    not given, None when it is None (no rate)."""
    worth = Decimal(amount) if value == "" else None if value is None else Decimal(value)
    at = T0 + timedelta(hours=hours)
    return Edge(n, 1, source, target, Decimal(amount), at, currency, worth)


def _loops_only(edges, _):
    """A probe leaving only the value-loop walk: what it asks for is its own."""
    return [Prospects(False, False, False, False, True)] * len(edges)


def _loop(new: Edge, *hops: Edge) -> tuple[list, list]:
    graph = Graph([*hops, new])
    found = detect([new], graph, Parameters(), probe=_loops_only)
    loop = found[new.id].loop if new.id in found else []
    return [e.id for e in loop], graph.asked


def test_the_loop_walk_follows_no_hop_outside_the_new_transfers_value_band():
    new = _valued(0, "u", "v", "1000.00", hours=50)
    kept, asked = _loop(
        new,
        _valued(1, "v", "x", "980.00", hours=1),
        _valued(2, "x", "u", "1010.00", hours=2),
        _valued(3, "v", "y", "400.00", hours=3),  # far below: no loop within 25 % holds it
        _valued(4, "y", "u", "1000.00", hours=4),
    )

    assert kept == [0, 1, 2]
    assert "y" not in asked


def test_hops_on_the_band_bounds_are_followed_and_a_cent_beyond_them_are_not():
    # 750 within 25 %: 562.50 (750 x 0.75) and 1,000 (750 / 0.75) are the band's bounds.
    on_bounds = (_valued(1, "v", "x", "562.50", hours=1), _valued(2, "x", "u", "1000.00", hours=2))
    below = (_valued(1, "v", "x", "562.49", hours=1), _valued(2, "x", "u", "1000.00", hours=2))
    above = (_valued(1, "v", "x", "562.50", hours=1), _valued(2, "x", "u", "1000.01", hours=2))
    new = _valued(0, "u", "v", "750.00", hours=50)

    assert _loop(new, *on_bounds)[0] == [0, 1, 2]  # walked; the spread check then decides
    assert _loop(new, *below)[0] == []
    assert _loop(new, *above)[0] == []


def test_a_hop_in_another_currency_is_followed_by_its_value_and_one_without_a_rate_is_not():
    new = _valued(0, "u", "v", "1000.00", hours=50)
    by_value = _valued(1, "v", "x", "640.00", hours=1, currency="GBP", value="1000.00")
    no_rate = _valued(2, "x", "u", "1000.00", hours=2, currency="JPY", value=None)
    back = _valued(3, "x", "u", "7600.00", hours=3, currency="CNY", value="1050.00")

    assert _loop(new, by_value, no_rate)[0] == []
    assert _loop(new, by_value, no_rate, back)[0] == [0, 1, 3]


def test_a_loop_in_one_currency_is_walked_by_amount_without_any_rate():
    new = _valued(0, "u", "v", "1000.00", hours=50, currency="EUR", value=None)
    hops = (
        _valued(1, "v", "x", "950.00", hours=1, currency="EUR", value=None),
        _valued(2, "x", "u", "1100.00", hours=2, currency="EUR", value=None),
    )

    assert _loop(new, *hops)[0] == [0, 1, 2]


def test_every_hop_of_a_loop_within_the_spread_lies_in_every_other_hops_band():
    """The band is a necessary condition: no loop the spread check keeps loses a hop to it."""
    spread, rng = Decimal("0.25"), random.Random(16)
    loops = [["750.00", "1000.00"], ["750.00", "800.00", "1000.00"]]  # exactly 25 % apart
    loops += [
        [f"{rng.uniform(700, 1000):.2f}" for _ in range(rng.randint(2, 6))] for _ in range(3000)
    ]
    checked = 0
    for amounts in loops:
        hops = [_valued(n, "a", "b", amount, 0) for n, amount in enumerate(amounts)]
        if value_spread(hops) > spread:
            continue
        checked += 1
        for edge in hops:
            band = value_band(edge, spread)
            assert all(band.lo <= other.amount <= band.hi for other in hops), amounts
            assert all(band.value_lo <= other.value <= band.value_hi for other in hops)
    assert checked > 100


def test_values_are_compared_by_amount_in_one_currency_and_by_value_across_currencies():
    usd = _valued(1, "a", "b", "1000.00", 0)
    eur = _valued(2, "b", "a", "800.00", 1, currency="EUR", value="900.00")
    yen = _valued(3, "b", "a", "150000", 1, currency="JPY", value=None)

    assert value_spread([usd, _valued(4, "b", "a", "800.00", 1)]) == Decimal("0.2")
    assert value_spread([usd, eur]) == Decimal("0.1")
    assert value_spread([usd, yen]) is None
    assert value_spread([yen, yen._replace(id=5, amount=Decimal("120000"))]) == Decimal("0.2")


# --- Two-hop returns -------------------------------------------------------------------------


def _return_judged(new: Edge, *sent: Edge) -> list:
    found = detect([new], Graph([*sent, new]), Parameters())
    return [e.id for e in found[new.id].cycle] if new.id in found else []


def test_a_return_is_judged_against_the_sent_transfer_closest_in_value_not_the_first_met():
    back = _valued(0, "v", "u", "8900.00", hours=60, currency="EUR", value="11125.00")
    earlier = _valued(1, "u", "v", "3000.00", hours=0)  # another deal between the two
    matching = _valued(2, "u", "v", "12000.00", hours=24)

    assert _return_judged(back, earlier, matching) == [0, 2]
    assert _return_judged(back, matching, earlier) == [0, 2]


def test_a_transfer_that_cannot_be_compared_is_never_the_closest_and_equals_keep_the_first():
    back = _valued(0, "v", "u", "8900.00", hours=60, currency="EUR", value="11125.00")
    no_rate = _valued(1, "u", "v", "1600000", hours=0, currency="JPY", value=None)
    unlike = _valued(2, "u", "v", "5000.00", hours=10)
    twin = _valued(3, "u", "v", "5000.00", hours=20)

    assert _return_judged(back, no_rate, unlike, twin) == [0, 2]
    assert _return_judged(back, no_rate) == [0, 1]  # the only one: kept, found uncompared
