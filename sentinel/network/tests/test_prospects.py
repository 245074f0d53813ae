"""The probe that spares walks which cannot find anything (detectors.detect's ``probe``,
selectors.transfers_prospects) must be exact: the same findings with it as without it, on
random graphs and at the edges of every window and amount band."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import partial

import pytest

from sentinel.network.detectors import (
    Edge,
    Parameters,
    Prospects,
    Request,
    chain_band,
    detect,
    round_sum,
    value_band,
)
from sentinel.network.selectors import transfers_adjacent, transfers_prospects
from sentinel.network.services import transfers_record
from transactions.choices import RateSource
from transactions.models import ExchangeRate
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

from .test_detectors import Graph, _edge

AMOUNTS = ["1000.00", "990.00", "985.37", "1000.37", "997.12", "812.50", "640.00", "5000.00"]
# Around the value band of 1,000 within 25 %: 750 and 1,333.33 inside it, 749.99 and 1,333.34
# outside; and amounts only their value (in another currency) brings into it.
BAND_AMOUNTS = ["750.00", "749.99", "1333.33", "1333.34", "1200.00", "800.00"]
# Each currency's value in the reporting currency (USD) per unit; None: no rate.
RATES = {"USD": Decimal(1), "EUR": Decimal("1.25"), "GBP": None}


def _random_edges(
    rng: random.Random, count: int, accounts: int, *, currencies: bool = False
) -> list[Edge]:
    edges = []
    for n in range(count):
        source, target = rng.sample(range(accounts), 2)
        hours = rng.uniform(0, 24 * 20)
        edge = _edge(n, f"a{source}", f"a{target}", rng.choice(AMOUNTS + BAND_AMOUNTS), hours)
        if currencies:
            currency = rng.choice(list(RATES))
            rate = RATES[currency]
            edge = edge._replace(currency=currency, value=rate and edge.amount * rate)
        edges.append(edge)
    return edges


def _python_probe(graph: Graph):
    """The necessary conditions transfers_prospects checks in SQL, on the hand-built graph."""

    def into(node, since, until, lo=None, hi=None):
        return [
            e
            for e in graph.edges
            if e.target == node and since <= e.at <= until and (lo is None or lo <= e.amount <= hi)
        ]

    def probe(edges, p: Parameters):
        found = []
        for e in edges:
            carries = not round_sum(e, p.round_sum)
            opens = e.at - p.round_trip_window
            round_trip = any(
                last.source == e.target or into(last.source, opens, last.at)
                for last in into(e.source, opens, e.at)
            )
            carried_out = carries and any(
                x.source == e.target
                and abs(x.at - e.at) <= p.horizon
                and e.amount * (1 - p.fee_tolerance) <= x.amount <= e.amount
                for x in graph.edges
            )
            band_in = (e.amount, e.amount / (1 - p.fee_tolerance))
            carried_in = carries and bool(
                into(e.source, e.at - p.horizon, e.at + p.horizon, *band_in)
            )
            lo, hi, currency, value_lo, value_hi = chain_band(e, p)
            since = e.at - p.forward_within
            chain = Request(e.partner_id, "", lo, hi, since, e.at, currency, value_lo, value_hi)
            layering = any(x.target == e.source and chain.admits(x) for x in graph.edges)
            lo, hi, currency, value_lo, value_hi = value_band(e, p.value_spread)
            opens = e.at - p.loop_window
            banded = Request(e.partner_id, "", lo, hi, opens, e.at, currency, value_lo, value_hi)
            loop = any(x.source == e.target and banded.admits(x) for x in graph.edges) and any(
                x.target == e.source and banded.admits(x) for x in graph.edges
            )
            found.append(Prospects(round_trip, carried_out, carried_in, layering, loop))
        return found

    return probe


def _shapes(findings) -> dict:
    return {
        tx_id: (
            [e.id for e in f.cycle],
            [e.id for e in f.carried],
            [e.id for e in f.chain],
            [e.id for e in f.loop],
        )
        for tx_id, f in findings.items()
    }


@pytest.mark.parametrize("currencies", [False, True], ids=["one currency", "three currencies"])
def test_on_random_graphs_the_probe_changes_no_finding_and_spares_requests(currencies):
    spared = loops = 0
    for seed in range(40):
        rng = random.Random(seed)
        edges = _random_edges(
            rng, count=rng.randint(20, 160), accounts=rng.randint(4, 30), currencies=currencies
        )
        new = rng.sample(edges, min(25, len(edges)))
        without, probed = Graph(edges), Graph(edges)

        expected = detect(new, without, Parameters())
        found = detect(new, probed, Parameters(), probe=_python_probe(probed))

        assert _shapes(found) == _shapes(expected), seed
        assert probed.requests <= without.requests
        spared += without.requests - probed.requests
        loops += sum(bool(f.loop) for f in found.values())
    assert spared > 0
    assert loops > 0  # the band was exercised: value loops were walked and found


def test_a_probe_that_rules_nothing_out_changes_nothing():
    rng = random.Random(7)
    edges = _random_edges(rng, count=120, accounts=10)
    new = edges[-30:]

    def anything(edges, _):
        return [Prospects(True, True, True, True, True)] * len(edges)

    assert _shapes(detect(new, Graph(edges), Parameters(), probe=anything)) == _shapes(
        detect(new, Graph(edges), Parameters())
    )


def test_a_probe_answering_no_for_every_walk_leaves_no_finding_and_asks_nothing():
    ring = [_edge(i, f"r{i}", f"r{(i + 1) % 3}", "1000.37", hours=i) for i in range(3)]
    graph = Graph(ring)

    def nothing(edges, _):
        return [Prospects(False, False, False, False, False)] * len(edges)

    assert detect([ring[-1]], graph, Parameters(), probe=nothing) == {}
    assert graph.requests == 0


# --- Against the SQL probe, on the database --------------------------------------------------


def _store(partner, edges: list[tuple]) -> list[Edge]:
    """(source, target, amount, at[, currency]) each, in US dollars unless said."""
    payloads = [
        transaction_payload(
            occurred_at=at.isoformat(),
            amount=amount,
            currency=currency[0] if currency else "USD",
            originator={"account_id": source, "customer_id": f"c-{source}"},
            beneficiary={"account_id": target, "customer_id": f"c-{target}"},
        )
        for source, target, amount, at, *currency in edges
    ]
    stored = [r.transaction for r in transactions_ingest(partner=partner, payloads=payloads)]
    return transfers_record(transactions=stored)


def _both_ways(edges: list[Edge], parameters: Parameters):
    fetch = partial(transfers_adjacent, limit=parameters.edges_per_node)
    return (
        _shapes(detect(edges, fetch, parameters)),
        _shapes(detect(edges, fetch, parameters, probe=transfers_prospects)),
    )


@pytest.mark.django_db
def test_the_sql_probe_changes_no_finding_on_a_random_graph():
    partner = PartnerBankFactory()
    rng = random.Random(3)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=25)
    ExchangeRate.objects.bulk_create(  # euros have a rate, pounds none
        ExchangeRate(
            date=(start + timedelta(days=day)).date(),
            base="EUR",
            quote="USD",
            rate=RATES["EUR"],
            source=RateSource.ECB,
        )
        for day in range(-1, 22)
    )
    rows = []
    for _ in range(400):
        source, target = rng.sample(range(25), 2)
        at = start + timedelta(seconds=rng.randint(0, 20 * 86400))
        amount, currency = rng.choice(AMOUNTS + BAND_AMOUNTS), rng.choice(list(RATES))
        rows.append((f"a{source}", f"a{target}", amount, at, currency))
    edges = _store(partner, rows)
    parameters = Parameters()

    without, probed = _both_ways(edges, parameters)
    prospects = transfers_prospects(edges, parameters)

    assert probed == without
    assert any(p.round_trip for p in prospects) and not all(p.round_trip for p in prospects)
    assert any(p.loop for p in prospects) and not all(p.loop for p in prospects)
    for shape in range(4):  # the graph holds cycles, carried paths, chains and value loops
        assert any(found[shape] for found in without.values()), shape
    cents = Decimal("0.01")
    assert {e.value for e in edges if e.currency == "EUR"} == {
        (e.amount * RATES["EUR"]).quantize(cents, ROUND_HALF_EVEN)
        for e in edges
        if e.currency == "EUR"
    }
    assert {e.value for e in edges if e.currency == "GBP"} == {None}


@pytest.mark.django_db
def test_the_sql_probe_keeps_the_walks_whose_hops_sit_on_a_bound():
    """Hops exactly at the start of the round-trip window, at the fee tolerance's lower bound,
    at the forwarding window's start and on the value band's bounds: each walk still finds
    what it finds without it."""
    partner = PartnerBankFactory()
    p = Parameters()
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)
    opens = t - p.round_trip_window
    rows = [
        ("v", "x", "700.00", opens),  # round trip v → x → u, both hops at the window's start
        ("x", "u", "700.00", opens),
        ("v", "w", "980.49", t + p.horizon),  # carries 1000.50 less exactly 2 %, at the horizon
        ("s", "u", "1250.00", t - p.forward_within),  # forwarded: 1000 is 80 % of it
        # A value loop v → y → u at the loop window's start, its hops on the band of 1,000
        # within 25 % (750 to 1,333.33...); below 1000.50's (750.375).
        ("v", "y", "750.00", t - p.loop_window),
        ("y", "u", "1333.33", t - p.loop_window),
    ]
    _store(partner, rows)  # the graph arrived first (v → w too, though it happens later)
    new = _store(
        partner,
        [
            ("u", "v", "1000.00", t),  # the new transfer (a round sum: no carried walks)
            ("u", "v", "1000.50", t),  # the same, unround
        ],
    )

    without, probed = _both_ways(new, p)

    assert probed == without
    assert [len(cycle) for cycle, _, _, _ in without.values()] == [3, 3]
    assert [len(carried) for _, carried, _, _ in without.values()] == [0, 2]
    assert [len(chain) for _, _, chain, _ in without.values()] == [2, 2]
    assert transfers_prospects(new, p) == [
        Prospects(True, False, False, True, True),
        Prospects(True, True, False, True, False),
    ]


@pytest.mark.django_db
def test_the_sql_probe_rules_out_a_round_trip_whose_last_sender_was_paid_too_late():
    """u was paid within the window, but by an account that had received nothing in the
    window before paying it (x) and is not v: no time-ordered path can end with that hop."""
    partner = PartnerBankFactory()
    p = Parameters()
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    rows = [
        ("y", "x", "300.00", t - timedelta(hours=1)),  # x is paid after it pays u
        ("x", "u", "100.00", t - timedelta(hours=2)),  # too little to be forwarded as 300
        ("v", "y", "300.00", t - timedelta(days=8)),  # before the window
        ("u", "v", "300.00", t),
    ]
    edges = _store(partner, rows)

    without, probed = _both_ways(edges[-1:], p)

    assert probed == without == {}
    assert transfers_prospects(edges[-1:], p) == [Prospects(False, False, False, False, False)]


@pytest.mark.django_db
def test_the_sql_probe_answers_for_no_transfer_when_given_none():
    assert transfers_prospects([], Parameters()) == []
