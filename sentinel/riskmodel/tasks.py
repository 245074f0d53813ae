"""Celery interface to training: call the service, nothing more."""

from __future__ import annotations

import logging

from celery import shared_task

from .services import model_drift_measure, model_train
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


@shared_task(time_limit=600, soft_time_limit=550)
def measure_model_drift() -> float | None:
    """PSI of the live model's inputs and scores over the last day (beat: daily); the worst
    input's PSI, or None with no live model or no decisions."""
    drift = model_drift_measure()
    return None if drift is None else drift.worst_input_psi
