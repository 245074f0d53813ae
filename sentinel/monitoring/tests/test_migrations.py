"""The move from ``transactions`` to ``monitoring`` keeps every row and what points at them
(transactions 0005, monitoring 0001 and 0002), and can be undone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from sentinel.monitoring.models import (
    MinuteStat,
    MonitorSettings,
    MonitorWatermark,
    OperationalAlert,
)
from transactions.models import PartnerBank
from transactions.tests.factories import PartnerBankFactory

# Migrations run outside a test transaction.
pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [("transactions", "0004_transaction_partner_index_covered")]
MINUTE = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return MigrationExecutor(connection)  # a fresh loader sees what is applied now


def forward() -> None:
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.fixture
def before_the_move():
    """The schema as it was before the move; migrated forward again whatever the test did."""
    executor = migrate(BEFORE_THE_MOVE)
    try:
        yield executor.loader.project_state(BEFORE_THE_MOVE).apps
    finally:
        forward()


def test_rows_written_before_the_move_are_read_after_it(before_the_move):
    # Given monitor rows written with the old (transactions) historical models
    old = before_the_move
    # The partner too: today's model has columns the old schema lacks (reporting_currency).
    partner = old.get_model("transactions", "PartnerBank").objects.create(
        name="Partner before the move", slug="partner-before-the-move"
    )
    old.get_model("transactions", "MonitorSettings").objects.create(
        partner_id=partner.pk, sigmas=2.5, baseline_method="ewma"
    )
    old.get_model("transactions", "MonitorWatermark").objects.create(
        name="minute_stats", position=MINUTE
    )
    stat = old.get_model("transactions", "MinuteStat").objects.create(
        partner_id=partner.pk,
        minute=MINUTE,
        dimension="",
        value="",
        total=10,
        approved=7,
        failed=3,
        denied=0,
        reversed=0,
        updated_at=MINUTE,
    )
    alert = old.get_model("transactions", "OperationalAlert").objects.create(
        partner_id=partner.pk,
        metric="failed_rate",
        severity="CRITICAL",
        started_minute=MINUTE,
        last_minute=MINUTE,
        persistence_minutes=45,
        value=0.3,
        threshold=0.05,
    )
    old.get_model("transactions", "OperationalAlertEvent").objects.create(
        alert_id=alert.pk, type="raised", severity="CRITICAL", minute=MINUTE, persistence_minutes=45
    )

    # When the migrations move the models
    forward()
    partner = PartnerBank.objects.get(pk=partner.pk)

    # Then the new models read the same rows, and new rows continue the old ids
    assert MonitorSettings.objects.get(partner=partner).sigmas == 2.5
    assert MonitorWatermark.objects.get(name="minute_stats").position == MINUTE
    assert MinuteStat.objects.get(pk=stat.pk).failed == 3
    moved = OperationalAlert.objects.get(pk=alert.pk)
    assert (moved.partner, moved.severity, moved.persistence_minutes) == (partner, "CRITICAL", 45)
    assert list(moved.events.values_list("type", flat=True)) == ["raised"]
    later = MinuteStat.objects.create(
        partner=partner,
        minute=MINUTE.replace(minute=1),
        total=0,
        approved=0,
        failed=0,
        denied=0,
        reversed=0,
        updated_at=MINUTE,
    )
    assert later.pk > stat.pk


def test_beat_entries_and_permissions_follow_the_models(before_the_move):
    # Given a beat entry copied in the admin, naming the task where it used to live, and the
    # permission to view minute statistics as the old app labels it
    every_minute = IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="monitor, copy", task="transactions.tasks.monitor_cycle", interval=every_minute
    )
    permission = Permission.objects.get(codename="view_minutestat")
    assert permission.content_type.app_label == "transactions"

    # When the migrations move the models
    forward()

    # Then the entry runs the task where it lives now, and the same permission (so every
    # group and user holding it) is the monitoring app's
    assert PeriodicTask.objects.get(name="monitor, copy").task == (
        "sentinel.monitoring.tasks.monitor_cycle"
    )
    moved = Permission.objects.get(pk=permission.pk)
    assert (moved.content_type.app_label, moved.codename) == ("monitoring", "view_minutestat")
    assert moved.content_type.model_class() is MinuteStat


def test_the_move_is_undone_without_losing_rows():
    partner = PartnerBankFactory()
    MonitorSettings.objects.create(partner=partner, sigmas=4.0)

    executor = migrate(BEFORE_THE_MOVE)
    try:
        old = executor.loader.project_state(BEFORE_THE_MOVE).apps
        assert old.get_model("transactions", "MonitorSettings").objects.get().sigmas == 4.0
        assert Permission.objects.get(codename="view_minutestat").content_type.app_label == (
            "transactions"
        )
    finally:
        forward()
    assert MonitorSettings.objects.get(partner=partner).sigmas == 4.0
