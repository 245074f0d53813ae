"""Thin Celery interfaces of the screening app."""

from __future__ import annotations

from celery import shared_task

from .models import ListImport
from .rescreening import screening_rescreen


@shared_task(time_limit=1800, soft_time_limit=1700)
def rescreen_after_import(list_import_id: int) -> int:
    """Continuous screening after an import added or changed entries (queued on commit)."""
    list_import = ListImport.objects.filter(pk=list_import_id).first()
    return 0 if list_import is None else screening_rescreen(list_import=list_import)
