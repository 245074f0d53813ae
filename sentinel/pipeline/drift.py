"""The learned risk score's daily drift, measured and handed to whoever watches it.

The model measures (``riskmodel.services.model_drift_measure`` keeps a ``ModelDrift`` row);
the operational monitor alerts. The monitor may import neither the model nor the pipeline,
and nothing below it may import the monitor (pyproject's contracts), so the watchers are named
in SENTINEL_MODEL_DRIFT_WATCHERS, as feature providers are, and each is called with the
measurement as plain values (keyword arguments: the ``ModelDrift`` row's figures).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from sentinel.riskmodel.models import ModelDrift
from sentinel.riskmodel.services import model_drift_measure


def model_drift_hand_over(*, now: datetime | None = None) -> ModelDrift | None:
    """Measure the live model's drift over the day up to ``now`` and hand the figures to every
    watcher; with no live model or no decisions, hand over that nothing was measured (an open
    drift alert resolves). The measurement, or None."""
    now = now or timezone.now()
    drift = model_drift_measure(now=now)
    figures = drift_figures(drift, now=now)
    for watcher in drift_watchers():
        watcher(**figures)
    return drift


def drift_figures(drift: ModelDrift | None, *, now: datetime) -> dict:
    if drift is None:
        return {"version": None, "window_end": now}
    return {
        "version": drift.model_version.number,
        "window_end": drift.window_end,
        "decisions": drift.decisions,
        "score_psi": drift.score_psi,
        "worst_input_psi": drift.worst_input_psi,
        "inputs_psi": dict(drift.inputs_psi),
    }


def drift_watchers() -> list[Callable[..., object]]:
    return [import_string(path) for path in settings.SENTINEL_MODEL_DRIFT_WATCHERS]
