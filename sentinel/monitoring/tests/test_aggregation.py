"""Minute aggregates from stored transactions: counts, dimensions, percentiles, late arrivals,
and the beat task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sentinel.monitoring.models import MinuteStat
from sentinel.monitoring.services.aggregation import (
    minute_stats_rebuild,
    minute_stats_refresh,
    uuid7_floor,
)
from sentinel.monitoring.tasks import monitor_cycle
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def minute_ago(minutes: float) -> datetime:
    moment = datetime.now(UTC) - timedelta(minutes=minutes)
    return moment.replace(second=0, microsecond=0)


def send(partner, minute: datetime, count: int, **fields) -> None:
    payloads = [
        transaction_payload(occurred_at=(minute + timedelta(seconds=i % 60)).isoformat(), **fields)
        for i in range(count)
    ]
    transactions_ingest(partner=partner, payloads=payloads)


def stat(partner, minute, dimension="", value="") -> MinuteStat:
    return MinuteStat.objects.get(partner=partner, minute=minute, dimension=dimension, value=value)


def test_a_minute_is_counted_by_status_and_dimension_with_exact_percentiles():
    partner = PartnerBankFactory()
    minute = minute_ago(3)
    send(partner, minute, 3, status="failed", acquirer="acq-2", channel="pos", latency_ms=1000)
    for latency in range(1, 98):
        send(partner, minute, 1, acquirer="acq-1", channel="web", latency_ms=latency)

    minute_stats_refresh()

    whole = stat(partner, minute)
    assert (whole.total, whole.approved, whole.failed, whole.latency_count) == (100, 97, 3, 100)
    assert whole.latency_p50_ms == pytest.approx(50.5)
    assert whole.latency_p95_ms == pytest.approx(95.05)
    assert stat(partner, minute, "acquirer", "acq-2").failed == 3
    assert stat(partner, minute, "channel", "web").total == 97
    # Blank dimension values (no product or card type sent) get no row of their own
    assert not MinuteStat.objects.filter(partner=partner, dimension="product").exists()


def test_a_late_arrival_corrects_its_own_old_minute():
    partner = PartnerBankFactory()
    old = minute_ago(90)
    send(partner, old, 2)
    minute_stats_refresh()

    send(partner, old, 1, status="denied")  # arrives an hour and a half late
    minute_stats_refresh()

    assert (stat(partner, old).total, stat(partner, old).denied) == (3, 1)


def test_a_second_run_with_nothing_new_changes_nothing():
    partner = PartnerBankFactory()
    minute = minute_ago(2)
    send(partner, minute, 5)
    minute_stats_refresh()

    assert minute_stats_refresh() == 0
    assert stat(partner, minute).total == 5


def test_a_refresh_recomputes_only_the_minutes_whose_transactions_changed():
    partner = PartnerBankFactory()
    earlier, later = minute_ago(5), minute_ago(3)
    send(partner, later, 3)
    minute_stats_refresh()
    # A figure no recomputation would write: the minute's count of transactions is unchanged
    MinuteStat.objects.filter(partner=partner, minute=later).update(latency_p50_ms=1)

    send(partner, earlier, 1)  # the next run's overlap re-reads `later` too
    minute_stats_refresh()

    assert stat(partner, later).latency_p50_ms == 1  # same count: the same rows
    assert stat(partner, earlier).total == 1
    # A rebuild recomputes every minute of its range, whatever is stored
    minute_stats_rebuild(partner_id=partner.pk, start=earlier, end=later + timedelta(minutes=1))
    assert stat(partner, later).latency_p50_ms == 182


def test_a_transaction_stored_in_the_millisecond_the_run_starts_is_folded_by_it():
    partner = PartnerBankFactory()
    send(partner, minute_ago(2), 1)
    newest = max(partner.transactions.values_list("id", flat=True))
    # `now` read later in the very millisecond the newest id was generated in
    same_millisecond = EPOCH + timedelta(milliseconds=newest.int >> 80, microseconds=999)

    assert minute_stats_refresh(now=same_millisecond) == 2  # the whole and channel rows
    assert stat(partner, minute_ago(2)).total == 1


def test_the_id_floor_is_exact_to_the_millisecond():
    # 0.123 s is not exact in binary floating point; the floor must not fall a millisecond short
    moment = datetime(2026, 11, 24, 3, 0, 0, 123000, tzinfo=UTC)
    floor = uuid7_floor(moment)

    assert floor.int >> 80 == int(moment.replace(microsecond=0).timestamp()) * 1000 + 123
    assert uuid7_floor(moment + timedelta(microseconds=999)) == floor
    assert uuid7_floor(moment + timedelta(milliseconds=1)).int >> 80 == (floor.int >> 80) + 1


def test_the_beat_task_folds_and_judges():
    partner = PartnerBankFactory()
    send(partner, minute_ago(1), 4, status="reversed")

    result = monitor_cycle.delay().get()

    assert stat(partner, minute_ago(1)).reversed == 4
    assert result["events"] == 0  # no history yet: nothing is judged an incident
