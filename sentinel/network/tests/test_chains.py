"""Layering chains through the real pipeline: each account pays on about the value it got
within hours, each hop in another currency, compared in one currency at the stored exchange
rates. With the near misses: a hop too slow, a value that does not carry (too little or too
much), a broken hop, a currency without a rate, a version that lets no hop pay on more."""

from __future__ import annotations

import pytest

from sentinel.network.models import NetworkFinding
from sentinel.network.tests.factories import parameters_in_force
from sentinel.network.tests.graph import euro_rates, send, transfer
from sentinel.network.tests.test_pipeline import _network_hits

# One euro in dollars and pesos, every day of the tests' month (CHF has none).
RATES = {"USD": "1.25", "MXN": "25.00"}


@pytest.fixture(autouse=True)
def rates(db) -> None:
    euro_rates(RATES)


def _chain(*, last: str = "8320.00", last_currency: str = "EUR", last_hours: float = 20):
    """A → B → C → D, each hop in its own currency: 10,000 USD, 200,000 MXN (10,000 USD),
    then by default 8,320 EUR (10,400 USD: C pays on 4 % more than it got)."""
    return (
        transfer("A", "B", "10000.00", hours=0),
        transfer("B", "C", "200000.00", hours=6, currency="MXN"),
        transfer("C", "D", last, hours=last_hours, currency=last_currency),
    )


def test_a_chain_across_currencies_paying_on_about_its_value_is_found_at_its_third_hop(partner):
    ids = send(partner, *_chain())

    assert _network_hits(ids) == {2: {"network_layering_chain"}}
    finding = NetworkFinding.objects.get(transaction_id=ids[2])
    assert (finding.chain_depth, finding.cycle_length) == (3, 0)
    assert finding.members == ["A", "B", "C", "D"]
    assert set(finding.transactions) == set(ids)


def test_a_hop_paid_on_after_the_forwarding_window_breaks_the_chain(partner):
    ids = send(partner, *_chain(last_hours=6 + 25))  # C pays on 25 hours after it was paid

    assert _network_hits(ids) == {}
    assert NetworkFinding.objects.filter(transaction_id=ids[2], chain_depth__gte=3).count() == 0


@pytest.mark.parametrize(
    ("last", "why"),
    [
        ("5000.00", "6,250 USD: C paid on 62 % of what it got, not most of it"),
        ("11000.00", "13,750 USD: C paid on 137 %, more than it got by far"),
    ],
)
def test_a_value_that_does_not_carry_breaks_the_chain(partner, last, why):
    ids = send(partner, *_chain(last=last))

    assert _network_hits(ids) == {}, why
    assert NetworkFinding.objects.filter(transaction_id=ids[2], chain_depth__gte=3).count() == 0


def test_a_broken_hop_is_no_chain(partner):
    ids = send(
        partner,
        transfer("A", "B", "10000.00", hours=0),
        transfer("B", "C", "200000.00", hours=6, currency="MXN"),
        transfer("E", "D", "8320.00", hours=20, currency="EUR"),  # C never pays on
    )

    assert _network_hits(ids) == {}


def test_a_currency_without_a_rate_leaves_the_hop_uncompared_and_the_chain_unfound(partner):
    ids = send(partner, *_chain(last="9500.00", last_currency="CHF"))

    assert _network_hits(ids) == {}


def test_how_much_more_a_hop_may_pay_on_is_the_parameter_version_in_force(partner):
    parameters_in_force(forward_most_percent=100)  # fees only reduce: never more than it got

    ids = send(partner, *_chain())

    assert _network_hits(ids) == {}

    parameters_in_force(forward_most_percent=105)
    ids = send(partner, *_chain(last="8300.00"))  # 10,375 USD: 3.75 % more than it got

    assert _network_hits(ids) == {2: {"network_layering_chain"}}
