"""Celery interface to training: call the service, nothing more. (Drift is measured by the
pipeline's task, which hands it to the operational monitor: sentinel.pipeline.drift.)"""

from __future__ import annotations

import logging

from celery import shared_task

from .services import model_train
from .training import TooFewLabels

logger = logging.getLogger(__name__)


@shared_task(time_limit=1800, soft_time_limit=1700)
def train_model() -> int | None:
    """Train a new version in shadow on the last 30 days (beat: weekly, editable in the admin
    under Periodic tasks). With too few labels it logs why and stores nothing."""
    try:
        return model_train().number
    except TooFewLabels as error:
        logger.warning("Model training skipped: %s", error)
        return None
