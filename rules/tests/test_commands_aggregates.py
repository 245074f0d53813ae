"""``manage.py rebuild_aggregates`` as an operator runs it after Redis lost its data."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from rules.aggregates import AggregateSpec, aggregates_compute, event_from_transaction
from sentinel.redis import get_redis, redis_key
from transactions.tests.factories import PartnerBankFactory

from .test_aggregates import record, stored

pytestmark = pytest.mark.django_db

DAY = 86400
SPECS = [
    AggregateSpec(function="count", by="account", within_seconds=7 * DAY),
    AggregateSpec(function="sum", by="account", within_seconds=30 * DAY),
    AggregateSpec(function="distinct", by="device", within_seconds=3 * DAY, field="ip"),
    AggregateSpec(function="new_counterparties", by="customer", within_seconds=DAY),
    AggregateSpec(function="days_since_previous", by="counterparty"),
]


def _run(*args: str) -> str:
    out = StringIO()
    call_command("rebuild_aggregates", *args, stdout=out)
    return out.getvalue()


def _history(partner, days: int = 20) -> list:
    """A transaction every 12 hours over the last ``days`` days, with varied keys."""
    now = timezone.now()
    return [
        stored(
            partner,
            at=now - timedelta(hours=12 * n),
            amount=f"{n + 1}.10",
            device=f"d{n % 3}",
            ip=f"10.0.0.{n % 5}",
            counterparty=f"B{n % 4}",
        )
        for n in range(days * 2)
    ]


def _answers(transactions) -> list:
    return aggregates_compute([event_from_transaction(tx) for tx in transactions], SPECS)


def _wipe_redis() -> None:
    redis = get_redis()
    keys = list(redis.scan_iter(match=redis_key("*"), count=1000))
    if keys:
        redis.delete(*keys)


def test_rebuild_restores_identical_answers_after_redis_is_wiped():
    # Given two partners' transactions recorded live, and Redis then losing everything
    history = _history(PartnerBankFactory()) + _history(PartnerBankFactory(), days=3)
    record(*history)
    before = _answers(history)
    _wipe_redis()
    assert _answers(history) != before

    # When the operator rebuilds the aggregates
    output = _run()

    # Then every answer is back, and the command says how many transactions it recorded
    assert _answers(history) == before
    assert "Recorded 46 transactions" in output


def test_rebuild_of_one_partner_leaves_the_others_alone():
    # Given two partners' recorded transactions, and Redis wiped
    ours, theirs = PartnerBankFactory(), PartnerBankFactory()
    our_history, their_history = _history(ours, days=2), _history(theirs, days=2)
    record(*our_history, *their_history)
    ours_before = _answers(our_history)
    _wipe_redis()

    # When only our partner is rebuilt
    output = _run("--partner", ours.slug)

    # Then our answers are back and the other partner still has nothing recorded
    assert _answers(our_history) == ours_before
    assert [values[SPECS[0]] for values in _answers(their_history)] == [0] * 4
    assert "Recorded 4 transactions" in output


def test_rebuild_of_one_partner_replaces_only_its_keys():
    # Given two partners recorded, and a stray event left in our partner's account key
    ours, theirs = PartnerBankFactory(), PartnerBankFactory()
    our_history, their_history = _history(ours, days=2), _history(theirs, days=2)
    record(*our_history, *their_history)
    their_before = _answers(their_history)
    stray = stored(ours, at=our_history[0].occurred_at - timedelta(hours=1))
    record(stray)
    stray.delete()
    assert _answers(our_history)[0][SPECS[0]] == 5

    # When our partner is rebuilt
    _run("--partner", ours.slug)

    # Then the deleted transaction is gone from our counts, theirs are untouched
    assert _answers(our_history)[0][SPECS[0]] == 4
    assert _answers(their_history) == their_before


def test_rebuild_with_days_records_only_that_recent_history():
    # Given a partner with 20 days of history
    partner = PartnerBankFactory()
    _history(partner)

    # When only the last 5 days are rebuilt
    output = _run("--days", "5")

    # Then the transactions of the last 5 days are recorded (every 12 hours: 10), plus the
    # account's last one before them, so dormancy can still be measured
    assert "Recorded 11 transactions" in output


def test_rebuild_keeps_what_a_dormancy_rule_needs():
    # Given an account silent for 200 days before its latest transaction
    partner = PartnerBankFactory()
    now = timezone.now()
    stored(partner, at=now - timedelta(days=300))
    old = stored(partner, at=now - timedelta(days=200))
    latest = stored(partner, at=now - timedelta(hours=1))
    record(old, latest)
    gap = AggregateSpec(function="days_since_previous", by="account")
    before = aggregates_compute([event_from_transaction(latest)], [gap])

    # When Redis is wiped and the aggregates rebuilt
    _wipe_redis()
    _run()

    # Then the silence is still measured from the last transaction before it
    assert aggregates_compute([event_from_transaction(latest)], [gap]) == before
    assert 199 < before[0][gap] < 201


def test_an_unknown_partner_is_an_error_and_changes_nothing():
    # Given recorded transactions
    history = _history(PartnerBankFactory(), days=1)
    record(*history)
    before = _answers(history)

    # When the operator mistypes the partner
    with pytest.raises(CommandError, match="Unknown partner 'no-such-bank'"):
        _run("--partner", "no-such-bank")

    # Then nothing was dropped
    assert _answers(history) == before
