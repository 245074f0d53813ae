"""Rolling aggregates: the Redis store against hand-computed answers and against PostgreSQL."""

from __future__ import annotations

import pickle
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction as db_transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.aggregates import (
    AMOUNT_FUNCTIONS,
    BASE_AMOUNT,
    DISTINCT_FIELDS,
    FUNCTIONS,
    KEY_KINDS,
    AggregateSpec,
    aggregate_from_sql,
    aggregates_compute,
    aggregates_preview,
    aggregates_record,
    aggregates_record_and_compute,
    event_from_transaction,
    normalise_name,
)
from rules.aggregates.store import set_key
from sentinel.redis import get_redis, redis_key
from transactions.models import PartnerBank, Transaction
from transactions.money import minor_units
from transactions.tests.factories import PartnerBankFactory

pytestmark = pytest.mark.django_db

T = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
HOUR, DAY = 3600, 86400


def stored(partner: PartnerBank, *, at: datetime, **fields) -> Transaction:
    """A stored transaction of the partner's customer A1 (C1) with counterparty B9 by default."""
    return Transaction.objects.create(**_row(partner, at=at, **fields))


def _row(
    partner: PartnerBank,
    *,
    at: datetime,
    amount: str | Decimal = "100.00",
    currency: str = "USD",
    type: str = "transfer",  # noqa: A002  the column's name
    direction: str = "outbound",
    status: str = "approved",
    channel: str = "mobile",
    account: str = "A1",
    customer: str = "C1",
    counterparty: str = "B9",
    counterparty_name: str = "Bo Chen",
    counterparty_country: str = "SG",
    device: str = "d-77",
    ip: str | None = "203.0.113.7",
) -> dict:
    own = {"account_id": account, "customer_id": customer, "name": "Ana Lima", "country": "US"}
    other = {
        "account_id": counterparty,
        "customer_id": "",
        "name": counterparty_name,
        "country": counterparty_country,
    }
    originator, beneficiary = (own, other) if direction == "outbound" else (other, own)
    row = {
        "id": uuid.uuid4(),
        "partner": partner,
        "external_id": uuid.uuid4().hex,
        "occurred_at": at,
        "received_at": at,
        "amount": Decimal(amount),
        "currency": currency,
        "type": type,
        "status": status,
        "direction": direction,
        "channel": channel,
        "device_id": device,
        "ip_address": ip,
        "payload_hash": "0" * 64,
    }
    for side, party in (("originator", originator), ("beneficiary", beneficiary)):
        row.update({f"{side}_{name}": value for name, value in party.items()})
    return row


def record(*transactions: Transaction) -> None:
    aggregates_record([event_from_transaction(tx) for tx in transactions])


def values_at(tx: Transaction, *specs: AggregateSpec) -> list[object]:
    (values,) = aggregates_compute([event_from_transaction(tx)], specs)
    return [values[spec] for spec in specs]


def value_at(tx: Transaction, spec: AggregateSpec) -> object:
    (value,) = values_at(tx, spec)
    return value


def exactly(value: object) -> tuple:
    """Compare Decimals with their exponent: 0.00 USD is not 0 JPY."""
    if isinstance(value, Decimal):
        return ("decimal", value, value.as_tuple().exponent)
    return (type(value).__name__, value)


def spec(function: str, by: str = "account", within: int | None = 7 * DAY, **options):
    filters = {name: frozenset(values) for name, values in options.items() if name != "field"}
    return AggregateSpec(
        function=function,
        by=by,
        within_seconds=None if function == "days_since_previous" else within,
        field=options.get("field")
        if function == "distinct" or options.get("field") == BASE_AMOUNT
        else None,
        **filters,
    )


# --- Windows ---------------------------------------------------------------------------------


def test_window_excludes_exactly_t_minus_window_and_includes_t_and_later_arrivals_at_t():
    # Given transactions at the window's open edge, just inside it, at t (twice) and after t
    partner = PartnerBankFactory()
    edge = stored(partner, at=T - timedelta(days=7))
    inside = stored(partner, at=T - timedelta(days=7) + timedelta(milliseconds=1))
    scored = stored(partner, at=T)
    tie = stored(partner, at=T)
    after = stored(partner, at=T + timedelta(milliseconds=1))
    # When they are recorded in any order
    record(after, tie, scored, inside, edge)

    # Then the 7-day count at t holds inside, scored and the tie, not the edge nor the later one
    assert value_at(scored, spec("count")) == 3
    assert aggregate_from_sql(spec("count"), scored) == 3
    assert value_at(edge, spec("count")) == 1


def test_each_window_keeps_its_own_edge_when_computed_together():
    # Given payments to B1, B2 and B3 exactly 1 hour, 1 day and 7 days before t
    partner = PartnerBankFactory()
    edges = [
        stored(partner, at=T - timedelta(seconds=seconds), counterparty=counterparty)
        for seconds, counterparty in ((HOUR, "B1"), (DAY, "B2"), (7 * DAY, "B3"))
    ]
    scored = stored(partner, at=T, counterparty="B4")
    record(*edges, scored)
    windows = (HOUR, DAY, 7 * DAY)

    # When counts and new counterparties of three windows are computed in one call
    counts = [spec("count", within=w) for w in windows]
    new = [spec("new_counterparties", within=w) for w in windows]
    distinct = [spec("distinct", within=w, field="counterparty") for w in windows]

    # Then each window leaves out the transaction on its edge
    assert values_at(scored, *counts, *new, *distinct) == [1, 2, 3] * 3
    assert [aggregate_from_sql(s, scored) for s in (*counts, *new, *distinct)] == [1, 2, 3] * 3


def test_sub_millisecond_times_count_in_whole_milliseconds():
    # Given one transaction 7 days minus 0.5 ms before t: its millisecond is the window's edge
    partner = PartnerBankFactory()
    early = stored(partner, at=T - timedelta(days=7) + timedelta(microseconds=500))
    scored = stored(partner, at=T + timedelta(microseconds=900))
    record(early, scored)

    # Then it is out, in Redis and in SQL alike
    assert value_at(scored, spec("count")) == 1
    assert aggregate_from_sql(spec("count"), scored) == 1


def test_late_arrivals_score_like_live_traffic():
    # Given a history of twenty transactions over ten days
    partner = PartnerBankFactory()
    history = [
        stored(partner, at=T - timedelta(hours=12 * n), amount=f"{n + 1}.25", device=f"d{n % 3}")
        for n in range(20)
    ]
    specs = [spec("count"), spec("sum"), spec("distinct", field="device"), spec("avg", within=DAY)]
    record(*sorted(history, key=lambda tx: tx.occurred_at))
    in_order = aggregates_compute([event_from_transaction(tx) for tx in history], specs)

    # When the same history is recorded again from scratch, shuffled and in small batches
    _clear_aggregates()
    shuffled = history[:]
    random.Random(7).shuffle(shuffled)
    for start in range(0, len(shuffled), 3):
        record(*shuffled[start : start + 3])

    # Then every answer is identical
    assert aggregates_compute([event_from_transaction(tx) for tx in history], specs) == in_order


def test_recording_the_same_transaction_twice_changes_nothing():
    # Given two recorded transactions
    partner = PartnerBankFactory()
    first = stored(partner, at=T - timedelta(hours=1), amount="10.00")
    scored = stored(partner, at=T, amount="5.00")
    record(first, scored)
    key = set_key(partner.pk, "account", "A1")

    # When both are recorded again, once alone and once in a batch with themselves
    record(first)
    record(scored, first, scored)

    # Then the key still holds two events and the sum counts each once
    assert get_redis().zcard(key) == 2
    assert value_at(scored, spec("sum")) == Decimal("15.00")


# --- Functions and filters -------------------------------------------------------------------


def test_amount_functions_only_add_up_the_scored_currency():
    # Given USD and EUR transactions of the same account
    partner = PartnerBankFactory()
    usd = [
        stored(partner, at=T - timedelta(hours=n), amount=a) for n, a in ((3, "0.10"), (2, "0.20"))
    ]
    stored_eur = stored(partner, at=T - timedelta(hours=1), amount="999.00", currency="EUR")
    scored = stored(partner, at=T, amount="0.05")
    record(*usd, stored_eur, scored)

    # When the amount functions are computed at the USD transaction
    values = values_at(scored, spec("sum"), spec("avg"), spec("max"), spec("min"), spec("count"))

    # Then sums and extremes ignore the euros, while the count takes every currency
    assert [exactly(v) for v in values] == [
        exactly(Decimal("0.35")),
        exactly(Decimal("0.12")),  # 0.35 / 3 = 0.11666...
        exactly(Decimal("0.20")),
        exactly(Decimal("0.05")),
        exactly(4),
    ]
    assert value_at(stored_eur, spec("sum")) == Decimal("999.00")


def test_average_rounds_half_to_even_in_minor_units():
    # Given two pairs of amounts whose exact averages end in half a cent
    partner = PartnerBankFactory()
    a = [
        stored(partner, at=T, amount="0.01", account="A"),
        stored(partner, at=T, amount="0.02", account="A"),
    ]
    b = [
        stored(partner, at=T, amount="0.03", account="B"),
        stored(partner, at=T, amount="0.04", account="B"),
    ]
    record(*a, *b)

    # Then 0.015 rounds to 0.02 and 0.035 to 0.04 (to the even cent)
    assert value_at(a[0], spec("avg")) == Decimal("0.02")
    assert value_at(b[0], spec("avg")) == Decimal("0.04")
    assert aggregate_from_sql(spec("avg"), a[0]) == Decimal("0.02")
    assert aggregate_from_sql(spec("avg"), b[0]) == Decimal("0.04")


def test_yen_and_dinar_amounts_stay_exact_beyond_double_precision():
    # Given yen (no decimals) and Kuwaiti dinars (three) of sizes a double cannot add exactly
    partner = PartnerBankFactory()
    yen = [stored(partner, at=T, amount=a, currency="JPY", account="Y") for a in ("1500", "2501")]
    big = "9999999999999.999"
    dinars = [
        stored(partner, at=T, amount=a, currency="KWD", account="K")
        for a in (big, big, "0.001", "1.234")
    ]
    record(*yen, *dinars)

    # Then sums, averages and extremes come back exact, with each currency's decimals
    assert [exactly(v) for v in values_at(yen[0], spec("sum"), spec("avg"), spec("max"))] == [
        exactly(Decimal("4001")),
        exactly(Decimal("2000")),  # 2000.5 rounds half to even
        exactly(Decimal("2501")),
    ]
    assert [exactly(v) for v in values_at(dinars[0], spec("sum"), spec("avg"), spec("min"))] == [
        exactly(Decimal("20000000000001.233")),
        exactly(Decimal("5000000000000.308")),  # .30825 -> .308
        exactly(Decimal("0.001")),
    ]
    assert aggregate_from_sql(spec("sum"), dinars[0]) == Decimal("20000000000001.233")


def test_sums_of_nothing_are_zero_in_the_currency_and_the_rest_is_none():
    # Given an account with only approved transfers
    partner = PartnerBankFactory()
    scored = stored(partner, at=T, amount="5", currency="JPY")
    record(scored)
    wires = dict(types={"wire"})

    # When the amount functions look for wires only
    values = values_at(
        scored,
        spec("sum", **wires),
        spec("avg", **wires),
        spec("max", **wires),
        spec("count", **wires),
    )

    # Then the sum is 0 yen, the count 0, and avg and max have no value
    assert [exactly(v) for v in values] == [
        exactly(Decimal("0")),
        exactly(None),
        exactly(None),
        exactly(0),
    ]
    assert exactly(aggregate_from_sql(spec("sum", **wires), scored)) == exactly(Decimal("0"))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, 6),
        ({"types": {"cash_deposit"}}, 2),
        ({"directions": {"inbound"}}, 2),
        ({"statuses": {"failed", "denied"}}, 2),
        ({"channels": {"atm"}}, 1),
        ({"types": {"cash_deposit"}, "channels": {"atm"}, "statuses": {"approved"}}, 1),
    ],
)
def test_filters_restrict_what_counts_and_every_status_counts_by_default(filters, expected):
    # Given one account's mixed history, the scored transfer included
    partner = PartnerBankFactory()
    history = [
        stored(
            partner,
            at=T - timedelta(hours=5),
            type="cash_deposit",
            direction="inbound",
            channel="atm",
        ),
        stored(
            partner,
            at=T - timedelta(hours=4),
            type="cash_deposit",
            direction="inbound",
            channel="branch",
            status="reversed",
        ),
        stored(partner, at=T - timedelta(hours=3), status="failed", channel=""),
        stored(partner, at=T - timedelta(hours=2), status="denied"),
        stored(partner, at=T - timedelta(hours=1), type="wire", channel="web"),
    ]
    scored = stored(partner, at=T)
    record(*history, scored)

    # Then the count keeps only the matching transactions
    assert value_at(scored, spec("count", **filters)) == expected
    assert aggregate_from_sql(spec("count", **filters), scored) == expected


def test_distinct_counts_non_empty_values_and_normalised_counterparty_names():
    # Given counterparties known by account or only by differently written names
    partner = PartnerBankFactory()
    common = dict(counterparty="")
    history = [
        stored(partner, at=T - timedelta(hours=4), counterparty_name="José  Da Silva", **common),
        stored(
            partner,
            at=T - timedelta(hours=3),
            counterparty_name="jose da silva",
            device="",
            counterparty_country="",
            **common,
        ),
        stored(
            partner, at=T - timedelta(hours=2), counterparty="B9", ip="2001:db8::1", device="d-1"
        ),
        stored(
            partner,
            at=T - timedelta(hours=1),
            counterparty="",
            counterparty_name="",
            ip=None,
            counterparty_country="BR",
        ),
    ]
    scored = stored(partner, at=T, counterparty="B10")
    record(*history, scored)
    specs = [spec("distinct", field=field) for field in DISTINCT_FIELDS]

    # Then names count once, empty values not at all
    expected = {"counterparty": 3, "counterparty_country": 2, "device": 2, "ip": 2}
    assert dict(zip(DISTINCT_FIELDS, values_at(scored, *specs), strict=True)) == expected
    assert {s.field: aggregate_from_sql(s, scored) for s in specs} == expected
    assert normalise_name("  José   DA Silva ") == "jose da silva"


def test_counterparty_key_groups_by_account_or_normalised_name():
    # Given two customers paying the same name-only counterparty, written differently
    partner = PartnerBankFactory()
    first = stored(
        partner,
        at=T - timedelta(hours=1),
        account="A1",
        counterparty="",
        counterparty_name="ÉLODIE  Roux",
    )
    scored = stored(partner, at=T, account="A2", counterparty="", counterparty_name="elodie roux")
    unnamed = stored(partner, at=T, counterparty="", counterparty_name="  ")
    record(first, scored, unnamed)

    # Then the counterparty key holds both, and a counterparty with neither id nor name has none
    assert value_at(scored, spec("count", by="counterparty")) == 2
    assert value_at(unnamed, spec("count", by="counterparty")) is None


def test_new_counterparties_are_first_seen_inside_the_window():
    # Given B1 paid 10 days ago and again yesterday, B2 first paid 2 days ago, B3 only by wire
    partner = PartnerBankFactory()
    history = [
        stored(partner, at=T - timedelta(days=10), counterparty="B1"),
        stored(partner, at=T - timedelta(days=1), counterparty="B1"),
        stored(partner, at=T - timedelta(days=2), counterparty="B2"),
        stored(partner, at=T - timedelta(days=20), counterparty="B3", type="wire"),
        stored(partner, at=T - timedelta(days=3), counterparty="B3"),
    ]
    scored = stored(partner, at=T, counterparty="B2")
    record(*history, scored)
    transfers = spec("new_counterparties", types={"transfer"})

    # Then B2 is new; B3 is new among transfers only; B1 is old
    assert value_at(scored, spec("new_counterparties")) == 1
    assert value_at(scored, transfers) == 2
    assert aggregate_from_sql(transfers, scored) == 2


def test_days_since_previous_looks_strictly_before_t_and_through_filters():
    # Given transfers 2.5 days and 1 hour before t, a wire 40 days before, and a tie at t
    partner = PartnerBankFactory()
    history = [
        stored(partner, at=T - timedelta(days=40), type="wire"),
        stored(partner, at=T - timedelta(days=2, hours=12)),
        stored(partner, at=T - timedelta(hours=1)),
        stored(partner, at=T),
    ]
    scored = stored(partner, at=T)
    record(*history, scored)

    # Then the previous transaction is an hour back, the previous wire 40 days back, also when
    # a 1-day count of the same key is computed alongside (the wire is older than that read)
    previous = spec("days_since_previous")
    wire = spec("days_since_previous", types={"wire"})
    assert values_at(scored, previous, wire) == [Decimal("0.0417"), Decimal("40.0000")]
    assert values_at(scored, wire, spec("count", within=DAY)) == [Decimal("40.0000"), 3]
    assert value_at(history[0], previous) is None
    assert aggregate_from_sql(previous, scored) == Decimal("0.0417")
    assert aggregate_from_sql(wire, scored) == Decimal("40.0000")


def test_days_since_previous_sees_an_event_exactly_a_window_back():
    # Given a wire exactly one day before a transfer
    partner = PartnerBankFactory()
    wire = stored(partner, at=T - timedelta(days=1), type="wire")
    scored = stored(partner, at=T)
    record(wire, scored)

    # When the previous wire is looked up next to a 1-day count, which leaves the wire out
    values = values_at(
        scored, spec("days_since_previous", types={"wire"}), spec("count", within=DAY)
    )

    # Then the wire is found one day back
    assert values == [Decimal("1.0000"), 1]


def test_a_transaction_without_the_key_kind_gets_none_everywhere():
    # Given a transaction without device, IP or customer id
    partner = PartnerBankFactory()
    scored = stored(partner, at=T, device="", ip=None, customer="")
    record(scored)

    # Then every function keyed by them has no value, counts included
    specs = [
        spec(function, by=by, field="device")
        for by in ("device", "ip", "customer")
        for function in FUNCTIONS
    ]
    assert set(values_at(scored, *specs)) == {None}
    assert {aggregate_from_sql(s, scored) for s in specs} == {None}
    assert value_at(scored, spec("count")) == 1


# --- Retention, batches, preview -------------------------------------------------------------


def test_trimming_keeps_retention_plus_the_event_days_since_previous_needs(settings):
    # Given a 35-day retention and events on days 0, 1 and 2 of an account
    settings.SENTINEL_AGGREGATE_RETENTION_DAYS = 35
    partner = PartnerBankFactory()
    old = [stored(partner, at=T + timedelta(days=day)) for day in (0, 1, 2)]
    record(*old)
    key = set_key(partner.pk, "account", "A1")

    # When an event 50 days later is recorded
    late = stored(partner, at=T + timedelta(days=50))
    record(late)

    # Then days 0 and 1 are trimmed, day 2 is kept for days_since_previous, and the account's
    # set outlives a long silence (dormancy) while a device's expires after retention
    assert get_redis().zcard(key) == 2
    assert value_at(late, spec("days_since_previous")) == Decimal("48.0000")
    assert value_at(late, spec("count", within=31 * DAY)) == 1
    assert 399 * DAY < get_redis().ttl(key) <= 400 * DAY
    device_key = set_key(partner.pk, "device", late.device_id)
    assert 35 * DAY < get_redis().ttl(device_key) <= 42 * DAY


def test_record_and_compute_sees_the_whole_batch():
    # Given a batch of three transactions of one account, out of order
    partner = PartnerBankFactory()
    batch = [stored(partner, at=T - timedelta(hours=h)) for h in (0, 2, 1)]

    # When it is recorded and computed in one call
    values = aggregates_record_and_compute(
        [event_from_transaction(tx) for tx in batch], [spec("count")]
    )

    # Then each sees itself and the earlier ones of the batch, and the events stay recorded
    assert [v[spec("count")] for v in values] == [3, 1, 2]
    assert value_at(batch[0], spec("count")) == 3


def test_wanted_limits_what_each_event_computes_without_changing_the_values():
    # Given a batch of two transactions and three specs
    partner = PartnerBankFactory()
    batch = [stored(partner, at=T - timedelta(hours=h)) for h in (1, 0)]
    events = [event_from_transaction(tx) for tx in batch]
    specs = [spec("count"), spec("sum"), spec("days_since_previous", within=None)]

    # When the first event wants only the count and the second the sum and the gap
    values = aggregates_record_and_compute(events, specs, wanted=[{specs[0]}, {specs[1], specs[2]}])

    # Then each gets exactly what it asked for, with the same values a full compute gives
    full = aggregates_compute(events, specs)
    assert values[0] == {specs[0]: full[0][specs[0]]}
    assert values[1] == {specs[1]: full[1][specs[1]], specs[2]: full[1][specs[2]]}
    assert values[1][specs[2]] == Decimal("0.0417")


def test_preview_computes_as_if_recorded_and_leaves_the_store_unchanged():
    # Given one recorded transaction
    partner = PartnerBankFactory()
    earlier = stored(partner, at=T - timedelta(hours=1), amount="7.00")
    record(earlier)
    pasted = Transaction(**_row(partner, at=T, amount="3.00"))

    # When a pasted transaction is previewed
    (values,) = aggregates_preview([event_from_transaction(pasted)], [spec("sum"), spec("count")])

    # Then it counts itself, but is not left in the store
    assert values == {spec("sum"): Decimal("10.00"), spec("count"): 2}
    assert get_redis().zcard(set_key(partner.pk, "account", "A1")) == 1
    assert get_redis().zcard(set_key(partner.pk, "device", "d-77")) == 1


# --- Redis agrees with PostgreSQL ------------------------------------------------------------

_WINDOWS = [None, 3 * HOUR, 6 * HOUR, DAY, 2 * DAY, 7 * DAY]
_VALUES = {
    "types": ["transfer", "wire", "cash_deposit"],
    "directions": ["outbound", "inbound"],
    "statuses": ["approved", "failed", "reversed"],
    "channels": ["web", "mobile", ""],
}


def _subset(values: list[str]):
    # Mostly no filter, so that transactions on window edges often match.
    return st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(values), max_size=2))


@st.composite
def _specs(draw) -> AggregateSpec:
    function = draw(st.sampled_from(FUNCTIONS))
    return AggregateSpec(
        function=function,
        # Mostly by account, so specs of different windows share a key read.
        by=draw(st.sampled_from(["account", "account", "account", *KEY_KINDS])),
        within_seconds=None
        if function == "days_since_previous"
        else draw(st.sampled_from(_WINDOWS)),
        field=draw(st.sampled_from(DISTINCT_FIELDS))
        if function == "distinct"
        else draw(st.sampled_from([None, BASE_AMOUNT]))
        if function in AMOUNT_FUNCTIONS
        else None,
        types=draw(_subset(_VALUES["types"])),
        directions=draw(_subset(["outbound", "inbound"])),
        statuses=draw(_subset(_VALUES["statuses"])),
        channels=draw(_subset(_VALUES["channels"])),
    )


@st.composite
def _rows(draw) -> dict:
    currency = draw(st.sampled_from(["USD", "JPY", "KWD"]))
    minor = draw(st.integers(min_value=1, max_value=10**7))
    # A 3-hour grid makes ties and exact window edges likely; microseconds test flooring.
    at = T - timedelta(
        hours=3 * draw(st.integers(0, 10 * 8)),
        microseconds=draw(st.sampled_from([0, 0, 0, 1, 999])),
    )
    return dict(
        at=at,
        amount=Decimal(minor).scaleb(-minor_units(currency)),
        currency=currency,
        type=draw(st.sampled_from(_VALUES["types"])),
        direction=draw(st.sampled_from(_VALUES["directions"])),
        status=draw(st.sampled_from(_VALUES["statuses"])),
        channel=draw(st.sampled_from(_VALUES["channels"])),
        account=draw(st.sampled_from(["A1", "A2"])),
        customer=draw(st.sampled_from(["C1", "C2", ""])),
        counterparty=draw(st.sampled_from(["B1", "B2", ""])),
        counterparty_name=draw(st.sampled_from(["Bo Chen", "BO  CHÉN", "Ann", ""])),
        counterparty_country=draw(st.sampled_from(["SG", "US", ""])),
        device=draw(st.sampled_from(["d1", "a-device-id-longer-than-eight", ""])),
        ip=draw(st.sampled_from(["10.0.0.1", "2001:db8::1", None])),
    )


_ALWAYS = [
    spec("count", within=3 * HOUR),
    spec("sum", within=6 * HOUR),
    spec("distinct", within=DAY, field="counterparty"),
    spec("max", within=2 * DAY),
    spec("new_counterparties", within=DAY),
    spec("days_since_previous"),
]


@pytest.fixture
def partner():
    return PartnerBankFactory()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(_rows(), min_size=5, max_size=30),
    drawn=st.lists(_specs(), min_size=1, max_size=8, unique=True),
    seed=st.integers(0, 2**16),
)
def test_redis_answers_equal_sql_for_every_transaction(partner, rows, drawn, seed):
    # Given a random history stored in PostgreSQL (rolled back after each example), and random
    # specs next to unfiltered ones whose windows share one read of the account's key
    specs = list(dict.fromkeys([*drawn, *_ALWAYS]))
    _clear_aggregates()
    with db_transaction.atomic():
        history = Transaction.objects.bulk_create(
            [Transaction(**_row(partner, **row)) for row in rows]
        )

        # When it is recorded shuffled, in random batches, partly with record_and_compute
        shuffled = history[:]
        rng = random.Random(seed)
        rng.shuffle(shuffled)
        cut = rng.randint(0, len(shuffled))
        record(*shuffled[:cut])
        aggregates_record_and_compute([event_from_transaction(tx) for tx in shuffled[cut:]], specs)
        from_redis = aggregates_compute([event_from_transaction(tx) for tx in history], specs)

        # Then every value for every transaction equals the SQL reference, exponent included
        for tx, values in zip(history, from_redis, strict=True):
            for aggregate in specs:
                expected = aggregate_from_sql(aggregate, tx)
                assert exactly(values[aggregate]) == exactly(expected), (aggregate, tx.occurred_at)
        db_transaction.set_rollback(True)


def _clear_aggregates() -> None:
    redis = get_redis()
    keys = list(redis.scan_iter(match=redis_key("*"), count=1000))
    if keys:
        redis.delete(*keys)


def test_a_spec_keys_values_as_its_fields_say_whatever_copy_of_it():
    spec = AggregateSpec("sum", "account", 86400, directions=frozenset({"inbound"}))
    same = AggregateSpec("sum", "account", 86400, directions=frozenset({"inbound"}))
    other = AggregateSpec("sum", "account", 86400, directions=frozenset({"outbound"}))
    values = {spec: Decimal("1")}

    assert same == spec and hash(same) == hash(spec)
    assert values[same] == Decimal("1") and other not in values
    copied = pickle.loads(pickle.dumps(spec))  # noqa: S301  our own object, just dumped
    assert copied == spec and values[copied] == Decimal("1")
