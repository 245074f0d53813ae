"""The ``model`` feature provider: ``model.score`` and ``model.anomaly`` for the rule language,
and the decision's point-in-time snapshot for training.

Listed after ``aggregates`` in ``SENTINEL_FEATURE_PROVIDERS``: it reads what the providers
before it gave (profile fields, its own rolling aggregates, network or screening numbers),
builds one row per transaction, and scores the batch at once with the live model (and the
shadow one, stored apart). With no live model, both fields are None: rules reading them must
say what no score means (``model.score != null and ...``), and nothing fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from rules.expressions import language
from rules.features import FeatureBatch, FeatureField, FeatureProvider

from .inputs import AGGREGATES, inputs_of
from .scoring import in_force

# The key under which each transaction's snapshot and scores travel to the pipeline's
# *decision* stage; not a field of the rule language.
RECORD = "model.record"
TOP_CONTRIBUTIONS = 3
# Tree SHAP costs about 50 times a prediction: only scores from here up are explained at
# decision time (where a score can matter to a rule or a reader); the snapshot and the
# version are kept, so any other decision can be explained later, identically.
EXPLAIN_FROM = 0.2


@dataclass(frozen=True)
class ModelRecord:
    """What the decision stores about the models for one transaction."""

    schema_id: int
    inputs: list[float]
    version_id: int | None = None
    score: float | None = None
    anomaly: float | None = None
    contributions: list = field(default_factory=list)  # [name, value, SHAP], largest first
    shadow_version_id: int | None = None
    shadow_score: float | None = None


class ModelFeatures(FeatureProvider):
    """The learned risk score (docs/models.md). Batch prediction: one call per batch to the
    trees, one to the Tree SHAP values, one per partner segment to the isolation forests."""

    name = "model"
    fields = (
        FeatureField(
            "model.score",
            language.NUMBER,
            "learned risk score of the live model, 0-1 (null while no model is live)",
        ),
        FeatureField(
            "model.anomaly",
            language.NUMBER,
            "how unusual the transaction is for its partner segment, 0-1 (null: no model live)",
        ),
    )
    needs = frozenset({"profile", "redis", "database"})
    in_request = True
    budget_us = 50
    aggregates = tuple(AGGREGATES.values())

    def values(self, batch: FeatureBatch) -> list[dict[str, object]]:
        transactions = batch.transactions
        if not transactions:
            return []
        models = in_force()
        no_fields: dict = {}
        rows = [
            inputs_of(
                tx,
                batch.earlier_fields[i] if batch.earlier_fields else no_fields,
                batch.earlier_aggregates[i] if batch.earlier_aggregates else no_fields,
                models.extra,
            )
            for i, tx in enumerate(transactions)
        ]
        size = len(rows)
        scores = anomalies = shadow_scores = [None] * size
        explained: list[list] = [[] for _ in range(size)]
        if models.live is not None or models.shadow is not None:
            matrix = np.array(rows, dtype=np.float64)
        if (live := models.live) is not None:
            features = live.matrix(matrix)
            scores = live.scores(features).tolist()
            anomalies = live.anomalies(features, [tx.partner_id for tx in transactions]).tolist()
            explained = _explained(live, features, scores)
        if (shadow := models.shadow) is not None:
            shadow_scores = shadow.scores(shadow.matrix(matrix)).tolist()
        return [
            {
                "model.score": _decimal(scores[i]),
                "model.anomaly": _decimal(anomalies[i]),
                RECORD: ModelRecord(
                    schema_id=models.schema_id,
                    inputs=rows[i],
                    version_id=live.version_id if live else None,
                    score=scores[i],
                    anomaly=anomalies[i],
                    contributions=explained[i],
                    shadow_version_id=shadow.version_id if shadow else None,
                    shadow_score=shadow_scores[i],
                ),
            }
            for i in range(size)
        ]


def _explained(model, features: np.ndarray, scores: list[float]) -> list[list]:
    """Per row, the features that moved the score most, either way: [name, value, SHAP];
    empty below ``EXPLAIN_FROM``."""
    explained: list[list] = [[] for _ in scores]
    rows = [i for i, score in enumerate(scores) if score >= EXPLAIN_FROM]
    if not rows:
        return explained
    shap = model.contributions(features[rows])
    order = np.argsort(-np.abs(shap), axis=1)[:, :TOP_CONTRIBUTIONS]
    for k, i in enumerate(rows):
        explained[i] = [
            [
                model.features[j],
                None if np.isnan(features[i, j]) else round(float(features[i, j]), 6),
                round(float(shap[k, j]), 4),
            ]
            for j in order[k]
            if shap[k, j] != 0
        ]
    return explained


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None or value != value else Decimal(f"{value:.4f}")
