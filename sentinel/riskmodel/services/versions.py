"""Training a model version, and the report it carries."""

from __future__ import annotations

from datetime import datetime, timedelta

import lightgbm
import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.utils import timezone

from .. import scoring, selectors, training
from ..artefacts import LoadedModel, forests_dump, sha256
from ..choices import ModelStatus
from ..models import ModelVersion

DEFAULT_WINDOW = timedelta(days=30)
HOLDOUT_SHARE = 0.2  # the latest fifth of the window, by event time, is the hold-out
DEFAULT_ALERT_RATE = 0.01


def model_train(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    holdout_start: datetime | None = None,
    labels_as_of: datetime | None = None,
    alert_rate: float = DEFAULT_ALERT_RATE,
    actor=None,
) -> ModelVersion:
    """Train on the snapshots of [start, holdout_start), test on [holdout_start, end), and
    keep the result as a new version in shadow (replacing any shadow one). Only snapshots
    decided and labels received by ``labels_as_of`` (default: now) are read.

    Raises ``training.TooFewLabels`` (a ValidationError's message for the caller) when the
    training part has too few bad labels; nothing is stored then.
    """
    now = timezone.now()
    end = end or now
    start = start or end - DEFAULT_WINDOW
    labels_as_of = labels_as_of or now
    if not start < end:
        raise ValidationError("The training window must start before it ends.")
    holdout_start = holdout_start or start + (end - start) * (1 - HOLDOUT_SHARE)
    if not start < holdout_start < end:
        raise ValidationError("The hold-out must start inside the training window.")
    data = selectors.training_dataset(start=start, end=end, labels_as_of=labels_as_of)
    split = data.occurred_at < np.datetime64(holdout_start.replace(tzinfo=None), "us")
    train, holdout = data.select(split), data.select(~split)
    booster = training.fit_trees(train.inputs, train.labels, train.weights, data.names)
    forests = training.fit_forests(data.inputs, data.partner_ids)
    artefact = booster.model_to_string()
    forests_blob = forests_dump(forests)
    report = _report(booster, train, holdout, alert_rate=alert_rate)
    with db_transaction.atomic():
        ModelVersion.objects.filter(status=ModelStatus.SHADOW).update(status=ModelStatus.RETIRED)
        latest = ModelVersion.objects.select_for_update().order_by("-number").first()
        version = ModelVersion.objects.create(
            number=(latest.number + 1) if latest else 1,
            status=ModelStatus.SHADOW,
            trained_by=actor,
            window_start=start,
            holdout_start=holdout_start,
            window_end=end,
            labels_as_of=labels_as_of,
            train_rows=len(train),
            train_positives=int(train.labels.sum()),
            holdout_rows=len(holdout),
            holdout_positives=int(holdout.labels.sum()),
            features=list(data.names),
            library=f"lightgbm {lightgbm.__version__}",
            artefact=artefact,
            artefact_sha256=sha256(artefact.encode()),
            anomaly_artefact=forests_blob,
            anomaly_sha256=sha256(forests_blob),
            report=report,
        )
        scoring.models_changed()
    return version


def _report(booster, train, holdout, *, alert_rate: float) -> dict:
    """How the version did on the hold-out, beside the version in force and the rules alone
    on the same transactions."""
    labels = holdout.labels
    scores = booster.predict(holdout.inputs, num_threads=1) if len(holdout) else np.array([])
    report = {
        "alert_rate": alert_rate,
        "model": training.measures(scores, labels, alert_rate),
        "calibration": training.calibration(scores, labels.astype(np.float64)),
        "importances": training.importances(booster, holdout.names),
        "rules_alone": training.measures(holdout.rule_scores, labels, alert_rate),
        "in_force": None,
        "train": {"rows": len(train), "bad": int(train.labels.sum())},
        "holdout": {"rows": len(holdout), "bad": int(labels.sum())},
    }
    live = selectors.version_in_force()
    if live is not None and len(holdout):
        loaded = LoadedModel.of(live, holdout.names)
        report["in_force"] = {
            "version": live.number,
            **training.measures(loaded.scores(loaded.matrix(holdout.inputs)), labels, alert_rate),
        }
    return report
