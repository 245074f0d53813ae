"""The Celery application: its process set-up and its beat schedule."""

from __future__ import annotations

import gc

import pytest
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from sentinel.celery import app, freeze_inherited_objects
from sentinel.collector import YOUNG_THRESHOLD


def test_a_pool_process_freezes_what_it_inherited_and_collects_less_often():
    thresholds = gc.get_threshold()
    gc.unfreeze()
    try:
        freeze_inherited_objects()

        assert gc.get_freeze_count() > 50_000  # the Django project, loaded before the fork
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *thresholds[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_every_beat_entry_names_a_registered_task(settings):
    app.loader.import_default_modules()  # autodiscovery: every installed app's tasks module

    unknown = {
        name: entry["task"]
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] not in app.tasks
    }

    assert unknown == {}


@pytest.mark.django_db(transaction=True)  # the scheduler closes the connection it finds
def test_beat_on_a_new_database_schedules_the_monitoring_cycle_where_it_lives():
    DatabaseScheduler(app=app)  # reads CELERY_BEAT_SCHEDULE into its table, as beat starts

    entry = PeriodicTask.objects.get(name="monitor-cycle")
    assert (entry.task, entry.interval.every, entry.enabled) == (
        "sentinel.monitoring.tasks.monitor_cycle",
        60,
        True,
    )
