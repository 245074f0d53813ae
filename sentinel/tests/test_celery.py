"""The Celery application's process set-up."""

from __future__ import annotations

import gc

from sentinel.celery import freeze_inherited_objects


def test_a_pool_process_freezes_what_it_inherited_out_of_the_collector():
    gc.unfreeze()
    try:
        freeze_inherited_objects()

        assert gc.get_freeze_count() > 50_000  # the Django project, loaded before the fork
    finally:
        gc.unfreeze()
