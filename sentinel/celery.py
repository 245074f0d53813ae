"""The Celery application, configured from Django settings (CELERY_ namespace)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

from sentinel.collector import collector_settle

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")

app = Celery("sentinel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def freeze_inherited_objects(**_) -> None:
    """A pool process starts with everything the worker loaded before forking: frozen, out
    of the collector's sight, a full collection walks only what tasks made (the web processes
    do the same, sentinel/asgi.py), and the inherited pages stay shared with the parent. The
    young generation is collected less often (sentinel/collector.py)."""
    collector_settle()
