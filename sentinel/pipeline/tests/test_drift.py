"""The daily drift task: the model measures, the pipeline hands the figures to the watchers
named in settings (the monitor, in production; a recorder here)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from sentinel.pipeline import tasks
from sentinel.pipeline.drift import model_drift_hand_over

pytestmark = pytest.mark.django_db
HANDED: list[dict] = []


def recorder(**figures) -> None:
    HANDED.append(figures)


@pytest.fixture
def watched(settings):
    HANDED.clear()
    settings.SENTINEL_MODEL_DRIFT_WATCHERS = [f"{__name__}.recorder"]
    return HANDED


def test_with_no_live_model_the_watchers_hear_that_nothing_was_measured(watched):
    now = timezone.now()

    assert model_drift_hand_over(now=now) is None

    assert watched == [{"version": None, "window_end": now}]


def test_the_beat_task_hands_over_once_per_run(watched, settings):
    assert settings.CELERY_BEAT_SCHEDULE["measure-model-drift"]["task"] == (
        "sentinel.pipeline.tasks.measure_model_drift"
    )

    assert tasks.measure_model_drift.delay().get() is None

    assert [figures["version"] for figures in watched] == [None]


def test_beat_entries_naming_the_models_old_drift_task_follow_it_to_the_pipeline():
    every_day = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    PeriodicTask.objects.create(
        name="drift, renamed in the admin",
        task="sentinel.riskmodel.tasks.measure_model_drift",
        interval=every_day,
    )
    migration = importlib.import_module(
        "sentinel.pipeline.migrations.0002_drift_task_moves_to_the_pipeline"
    )

    migration.forwards(apps, None)

    assert PeriodicTask.objects.get(name="drift, renamed in the admin").task == (
        "sentinel.pipeline.tasks.measure_model_drift"
    )
