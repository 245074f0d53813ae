"""Value loops and U-turns through the real pipeline: cycles whose hops are out of time order
and change currency, compared in one currency at the stored exchange rates; and money sent
out and returned within days. With the near misses: a loop too slow, values that do not
carry, a ring broken by a missing hop, a currency without a rate, a small or late return."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sentinel.network.models import NetworkFinding
from sentinel.network.tests.factories import parameters_in_force
from sentinel.network.tests.graph import euro_rates, send, transfer
from sentinel.network.tests.test_pipeline import _network_hits

# One euro in dollars and pounds, every day of the tests' month.
RATES = {"USD": "1.25", "GBP": "0.80"}


@pytest.fixture(autouse=True)
def rates(db) -> None:
    euro_rates(RATES)


def _loop(*, last_hours: float = 80, back: str = "6500.00", back_currency: str = "USD"):
    """A → B → C → D → A, each hop in its own currency (10,000 USD = 8,000 EUR = 6,400 GBP),
    reported out of time order: B pays C before A pays B."""
    return (
        transfer("A", "B", "10000.00", hours=30),
        transfer("B", "C", "7600.00", hours=5, currency="EUR"),  # 9,500 USD
        transfer("C", "D", "6100.00", hours=50, currency="GBP"),  # 9,531.25 USD
        transfer("D", "A", back, hours=last_hours, currency=back_currency),
    )


def test_a_loop_out_of_time_order_and_across_currencies_is_found_by_its_last_hop(partner):
    ids = send(partner, *_loop(back="7500.00", back_currency="EUR"))  # 9,375 USD

    assert _network_hits(ids) == {3: {"network_value_loop"}}
    finding = NetworkFinding.objects.get(transaction_id=ids[3])
    assert (finding.loop_length, finding.cycle_length) == (4, 0)
    assert finding.members == ["A", "B", "C", "D"]
    assert set(finding.transactions) == set(ids)


def test_a_loop_whose_hops_span_more_than_the_loop_window_is_not_one(partner):
    ids = send(partner, *_loop(last_hours=24 * 8, back="9000.00"))

    assert _network_hits(ids) == {}
    assert not NetworkFinding.objects.filter(transaction_id=ids[3], loop_length__gt=0).exists()


def test_a_loop_whose_values_do_not_carry_is_not_one(partner):
    ids = send(partner, *_loop(back="6500.00"))  # 6,500 USD: 35 % less than the 10,000 sent

    assert _network_hits(ids) == {}
    assert not NetworkFinding.objects.filter(loop_length__gt=0).exists()


def test_a_ring_broken_by_a_missing_hop_is_no_loop(partner):
    a_b, b_c, _, d_a = _loop(back="9000.00")
    ids = send(partner, a_b, b_c, d_a, transfer("C", "E", "6100.00", hours=50, currency="GBP"))

    assert _network_hits(ids) == {}
    assert not NetworkFinding.objects.filter(loop_length__gt=0).exists()


def test_a_currency_without_a_rate_leaves_the_values_uncompared_and_the_loop_unreported(
    partner,
):
    ids = send(partner, *_loop(back="1400000.00", back_currency="JPY"))

    assert _network_hits(ids) == {}
    assert not NetworkFinding.objects.filter(loop_length__gt=0).exists()


def test_the_loop_window_and_the_value_spread_are_the_parameter_version_in_force(partner):
    parameters_in_force(loop_days=2, value_spread_percent=5)

    ids = send(partner, *_loop(back="9000.00"))  # over 3 days; values 10 % apart

    assert _network_hits(ids) == {}


def test_a_wider_spread_in_force_finds_the_loop_a_narrower_one_leaves(partner):
    parameters_in_force(value_spread_percent=40)

    ids = send(partner, *_loop(back="6500.00"))

    assert _network_hits(ids) == {3: {"network_value_loop"}}


# --- U-turns -------------------------------------------------------------------------------


def test_money_sent_out_and_returned_within_days_at_about_its_value_is_a_u_turn(partner):
    ids = send(
        partner,
        transfer("U", "V", "12000.00", hours=0),
        transfer("V", "U", "8900.00", hours=60, currency="EUR"),  # 11,125 USD
    )

    assert _network_hits(ids) == {1: {"network_u_turn"}}
    finding = NetworkFinding.objects.get(transaction_id=ids[1])
    assert (finding.cycle_length, finding.loop_length) == (2, 0)
    assert finding.cycle_value_spread == Decimal("7.29")


@pytest.mark.parametrize(
    ("sent", "back", "currency", "hours", "why"),
    [
        ("2600.00", "2000.00", "EUR", 60, "2,500 USD back: a friend's loan returned"),
        ("12000.00", "4000.00", "EUR", 60, "5,000 USD for 12,000: not the same money"),
        ("12000.00", "9600.00", "EUR", 24 * 8, "after the round trip's week"),
        ("12000.00", "1600000.00", "JPY", 60, "no rate for the yen: not compared"),
    ],
)
def test_a_small_unlike_late_or_uncompared_return_is_no_u_turn(
    partner, sent, back, currency, hours, why
):
    ids = send(
        partner,
        transfer("U", "V", sent, hours=0),
        transfer("V", "U", back, hours=hours, currency=currency),
    )

    assert "network_u_turn" not in _network_hits(ids).get(1, set()), why


def test_a_return_after_earlier_unlike_transfers_between_the_pair_is_judged_on_the_closest(
    partner,
):
    """A pair that trades back and forth: the return is compared with the transfer of the
    week closest to it in value, not with the first one the walk meets."""
    ids = send(
        partner,
        transfer("U", "V", "3000.00", hours=0),  # another deal between the two
        transfer("U", "V", "12000.00", hours=24),
        transfer("V", "U", "8900.00", hours=60, currency="EUR"),  # 11,125 USD
    )

    assert _network_hits(ids) == {2: {"network_u_turn"}}
    finding = NetworkFinding.objects.get(transaction_id=ids[2])
    assert (finding.cycle_length, finding.cycle_value_spread) == (2, Decimal("7.29"))
    assert finding.cycle_days == Decimal("1.50")
    assert set(finding.transactions) == {ids[1], ids[2]}


@pytest.mark.parametrize(
    ("sent", "judged", "why"),
    [
        (
            [("3000.00", "USD", 0), ("20000.00", "USD", 24)],
            "44.38",
            "neither of the week's transfers is within 25 % of 11,125 USD: the closer is judged",
        ),
        (
            [("12000.00", "USD", 0), ("3000.00", "USD", 24 * 7)],
            "73.03",
            "the matching one left more than the round trip's week before the return",
        ),
        (
            [("1600000", "JPY", 24), ("3000.00", "USD", 30)],
            "73.03",
            "the one in yen has no rate: not compared, so not taken for the closest",
        ),
    ],
)
def test_a_return_whose_closest_transfer_of_the_week_is_unlike_it_is_no_u_turn(
    partner, sent, judged, why
):
    ids = send(
        partner,
        *[transfer("U", "V", amount, hours=h, currency=c) for amount, c, h in sent],
        transfer("V", "U", "8900.00", hours=24 * 7 + 12, currency="EUR"),  # 11,125 USD
    )

    assert "network_u_turn" not in _network_hits(ids).get(len(sent), set()), why
    finding = NetworkFinding.objects.get(transaction_id=ids[-1])
    assert (finding.cycle_length, finding.cycle_value_spread) == (2, Decimal(judged)), why
