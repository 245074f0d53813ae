"""Drift of the live model: its inputs and scores now against the window it was trained on."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from django.utils import timezone

from .. import selectors, training
from ..artefacts import LoadedModel
from ..models import DecisionFeatures, ModelDrift, ModelVersion

DRIFT_WINDOW = timedelta(days=1)
TOP_INPUTS = 5


def model_drift_measure(*, version: ModelVersion | None = None, now: datetime | None = None):
    """PSI of every input and of the score over the last day's decisions against the
    version's training window (its hold-out for the score: what it scored as the live model
    would); stored as a ``ModelDrift`` row. None when no version is live or nothing was
    decided."""
    version = version or selectors.version_in_force()
    now = now or timezone.now()
    if version is None:
        return None
    expected = selectors.training_dataset(
        start=version.window_start, end=version.window_end, labels_as_of=version.labels_as_of
    )
    actual = selectors.training_dataset(start=now - DRIFT_WINDOW, end=now, labels_as_of=now)
    if not len(expected) or not len(actual):
        return None
    columns = {name: i for i, name in enumerate(actual.names)}
    inputs = {}
    for j, name in enumerate(expected.names):
        if name in columns:
            value = training.psi(expected.inputs[:, j], actual.inputs[:, columns[name]])
            if value is not None:
                inputs[name] = value
    scores_now = np.array(
        DecisionFeatures.objects.filter(
            model_version=version, occurred_at__gte=now - DRIFT_WINDOW, occurred_at__lt=now
        ).values_list("score", flat=True),
        dtype=float,
    )
    holdout = expected.select(
        expected.occurred_at >= np.datetime64(version.holdout_start.replace(tzinfo=None), "us")
    )
    score_psi = None
    if len(scores_now) and len(holdout):
        loaded = LoadedModel.of(version, holdout.names)
        score_psi = training.psi(loaded.scores(loaded.matrix(holdout.inputs)), scores_now)
    worst = dict(sorted(inputs.items(), key=lambda item: -item[1])[:TOP_INPUTS])
    return ModelDrift.objects.create(
        model_version=version,
        window_end=now,
        decisions=len(actual),
        score_psi=score_psi,
        worst_input_psi=max(inputs.values(), default=None),
        inputs_psi=worst,
    )
