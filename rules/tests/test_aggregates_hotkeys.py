"""Rolling aggregates on hot keys: many events of one call on one key, swept in one pass, and
calls over the read budget computed in parts, all against the PostgreSQL reference."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction as db_transaction

from rules.aggregates import (
    FUNCTIONS,
    AggregateSpec,
    aggregate_from_sql,
    aggregates_record_and_compute,
    event_from_transaction,
    store,
)
from rules.tests.test_aggregates import DAY, HOUR, T, _row, exactly, record, spec, stored
from transactions.models import Transaction
from transactions.money import minor_units
from transactions.tests.factories import PartnerBankFactory

pytestmark = pytest.mark.django_db

MINUTE = 60
_WINDOWS = [10 * MINUTE, HOUR, DAY, None]


def _hot_rows(rng: random.Random, count: int) -> list[dict]:
    """A burst on two accounts (one far busier), times on a minute grid so that window edges
    and ties fall on members, a few older ones for the look-backs, several currencies."""
    rows = []
    for _ in range(count):
        currency = rng.choice(["USD", "USD", "JPY", "KWD"])
        if rng.random() < 0.1:
            at = T - timedelta(days=rng.choice([2, 3, 20]), minutes=rng.randrange(60))
        else:
            at = T - timedelta(minutes=rng.randrange(70), milliseconds=rng.choice([0, 0, 1]))
        rows.append(
            dict(
                at=at,
                amount=Decimal(rng.randrange(1, 10**7)).scaleb(-minor_units(currency)),
                currency=currency,
                type=rng.choice(["transfer", "card_payment", "card_payment", "wire"]),
                direction=rng.choice(["outbound", "outbound", "inbound"]),
                status=rng.choice(["approved", "approved", "denied", "failed"]),
                channel=rng.choice(["web", "pos", ""]),
                account=rng.choice(["HOT", "HOT", "HOT", "COOL"]),
                customer=rng.choice(["C1", "C2"]),
                counterparty=rng.choice(["B1", "B2", "B3", "B4", "B5", ""]),
                counterparty_country=rng.choice(["SG", "US", ""]),
                device=rng.choice(["d1", "d2", "a-device-id-longer-than-eight"]),
                ip=rng.choice(["10.0.0.1", "10.0.0.2", None]),
            )
        )
    return rows


def _hot_specs(rng: random.Random) -> list[AggregateSpec]:
    """Every function, unfiltered and filtered, by account mostly (the hot key)."""
    specs = []
    for function in FUNCTIONS:
        for filters in (
            {},
            {"types": {"card_payment"}},
            {"types": {"transfer", "wire"}, "statuses": {"approved"}, "directions": {"outbound"}},
            {"channels": {"pos", ""}},
        ):
            specs.append(
                spec(
                    function,
                    by=rng.choice(["account", "account", "customer", "device"]),
                    within=rng.choice(_WINDOWS),
                    field=rng.choice(["counterparty", "device", "ip", "counterparty_country"]),
                    **filters,
                )
            )
    return list(dict.fromkeys(specs))


@pytest.fixture
def store_calls(monkeypatch) -> list[str]:
    """The modes of the store's Redis calls during the test (a spy on the real function)."""
    modes: list[str] = []
    real = store._run

    def run(events, specs, mode, *args, **kwargs):
        modes.append(mode)
        return real(events, specs, mode, *args, **kwargs)

    monkeypatch.setattr(store, "_run", run)
    return modes


def _assert_equal_to_sql(history, values, specs) -> None:
    for tx, computed in zip(history, values, strict=True):
        for aggregate in specs:
            if aggregate in computed:
                expected = aggregate_from_sql(aggregate, tx)
                assert exactly(computed[aggregate]) == exactly(expected), (
                    aggregate.describe(),
                    tx.occurred_at,
                )


@pytest.mark.parametrize(("seed", "budget"), [(1, None), (2, 30), (3, 30)])
def test_a_hot_key_batch_equals_sql_whole_or_in_parts(settings, store_calls, seed, budget):
    # Given a stored burst of 100 transactions, most on one account, part of it recorded
    # earlier and the rest arriving shuffled in one batch where each event wants some specs
    if budget is not None:
        settings.SENTINEL_AGGREGATE_READ_BUDGET = budget
    rng = random.Random(seed)
    partner = PartnerBankFactory()
    specs = _hot_specs(rng)
    with db_transaction.atomic():
        history = Transaction.objects.bulk_create(
            [Transaction(**_row(partner, **row)) for row in _hot_rows(rng, 100)]
        )
        shuffled = history[:]
        rng.shuffle(shuffled)
        record(*shuffled[:30])
        batch = shuffled[30:]
        wanted = [set(rng.sample(specs, rng.randint(1, len(specs) // 3))) for _ in batch]

        # When the batch is recorded and computed in one call
        store_calls.clear()
        values = aggregates_record_and_compute(
            [event_from_transaction(tx) for tx in batch], specs, wanted=wanted
        )

        # Then each event gets exactly what it wanted, equal to the SQL reference, and a small
        # read budget made the call compute in parts
        assert [set(computed) for computed in values] == wanted
        _assert_equal_to_sql(batch, values, specs)
        if budget is None:
            assert store_calls == ["both"]
        else:
            assert store_calls[0] == "both"
            assert store_calls[1:] == ["compute"] * (len(store_calls) - 1)
            assert len(store_calls) > 2
        db_transaction.set_rollback(True)


def test_a_batch_larger_than_a_record_call_is_recorded_in_chunks_then_computed(
    monkeypatch, store_calls
):
    # Given a stored burst of 100 transactions, 30 recorded earlier, and calls that record at
    # most 25 events each
    monkeypatch.setattr(store, "RECORD_CHUNK", 25)
    rng = random.Random(4)
    partner = PartnerBankFactory()
    specs = _hot_specs(rng)
    with db_transaction.atomic():
        history = Transaction.objects.bulk_create(
            [Transaction(**_row(partner, **row)) for row in _hot_rows(rng, 100)]
        )
        rng.shuffle(history)
        record(*history[:30])
        batch = history[30:]

        # When the other 70 arrive in one batch
        store_calls.clear()
        values = aggregates_record_and_compute([event_from_transaction(tx) for tx in batch], specs)

        # Then they are recorded in three calls before any is computed, and every value still
        # equals the SQL reference (each event sees the whole batch)
        assert store_calls == ["record", "record", "record", "compute"]
        _assert_equal_to_sql(batch, values, specs)
        db_transaction.set_rollback(True)


def test_days_since_previous_alone_sees_members_after_the_others_reads():
    # Given an account's transfer at t, a wire 30 minutes later and a card payment an hour
    # later, the card payment wanting only the time since the previous transaction
    partner = PartnerBankFactory()
    transfer = stored(partner, at=T)
    wire = stored(partner, at=T + timedelta(minutes=30), type="wire")
    card = stored(partner, at=T + timedelta(hours=1), type="card_payment")
    record(wire)
    count, previous = spec("count", within=HOUR), spec("days_since_previous")

    # When the transfer (wanting the 1-hour count) and the card payment are computed together
    values = aggregates_record_and_compute(
        [event_from_transaction(tx) for tx in (transfer, card)],
        [count, previous],
        wanted=[{count}, {previous}],
    )

    # Then the card payment's previous is the wire, which the transfer's read did not reach
    assert values == [{count: 1}, {previous: Decimal("0.0208")}]
    assert aggregate_from_sql(previous, card) == Decimal("0.0208")


def test_sliding_extremes_and_distinct_values_follow_the_window_out():
    # Given one account's transfers a minute apart: 50, 90, 20, 90 (USD) and 7 (EUR), to B1,
    # B2, B1, B3, B4
    partner = PartnerBankFactory()
    history = [
        stored(
            partner,
            at=T + timedelta(minutes=n),
            amount=amount,
            currency=currency,
            counterparty=counterparty,
        )
        for n, (amount, currency, counterparty) in enumerate(
            [
                ("50", "USD", "B1"),
                ("90", "USD", "B2"),
                ("20", "USD", "B1"),
                ("90", "USD", "B3"),
                ("7", "EUR", "B4"),
            ]
        )
    ]
    specs = [
        spec("max", within=2 * MINUTE),
        spec("min", within=2 * MINUTE),
        spec("distinct", within=2 * MINUTE, field="counterparty"),
        spec("new_counterparties", within=2 * MINUTE),
        spec("avg", within=2 * MINUTE),
    ]

    # When all of them are recorded and computed in one call, in reverse order
    values = aggregates_record_and_compute(
        [event_from_transaction(tx) for tx in reversed(history)], specs
    )[::-1]

    # Then each sees the last two minutes of its own currency, counterparties of every one
    assert [[v[s] for s in specs] for v in values] == [
        [Decimal("50.00"), Decimal("50.00"), 1, 1, Decimal("50.00")],
        [Decimal("90.00"), Decimal("50.00"), 2, 2, Decimal("70.00")],
        [Decimal("90.00"), Decimal("20.00"), 2, 1, Decimal("55.00")],
        [Decimal("90.00"), Decimal("20.00"), 2, 1, Decimal("55.00")],
        [Decimal("7.00"), Decimal("7.00"), 2, 2, Decimal("7.00")],
    ]
    _assert_equal_to_sql(history, values, specs)


def test_parts_keep_each_busy_key_in_one_call_and_stay_within_the_budget():
    # Given events on three accounts with 30, 20 and 5 members to read and a shared device
    partner = PartnerBankFactory()
    rows = [("A", "d1")] * 4 + [("B", "d1")] * 3 + [("C", "d2")] * 2 + [("A", "d2")]
    events = [
        event_from_transaction(Transaction(**_row(partner, at=T, account=account, device=device)))
        for account, device in rows
    ]

    def key(kind, value):
        return store.set_key(partner.pk, kind, value)

    members = {key("account", "A"): 30, key("account", "B"): 20, key("account", "C"): 5}

    # When they are split for a budget of 40 members, then of 10
    parts = store._parts(events, members, 40)
    tight = store._parts(events, members, 10)

    # Then A's events share a call, and B and C (25 members) the other; with a budget below
    # every key, each account still gets one call (one read of it), over budget
    assert parts == [[0, 1, 2, 3, 9], [4, 5, 6, 7, 8]]
    assert tight == [[0, 1, 2, 3, 9], [4, 5, 6], [7, 8]]
    assert sorted(p for part in tight for p in part) == list(range(len(events)))
