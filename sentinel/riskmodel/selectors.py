"""Reads of the learned risk score: training data as it was at decision time, versions, changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db.models import QuerySet

from transactions.choices import OUTCOME_POLARITY, Direction
from transactions.models import TransactionLabel

from .choices import ModelChangeState, ModelStatus
from .models import DecisionFeatures, FeatureSchema, ModelChange, ModelDrift, ModelVersion

# An unlabelled transaction counts as good, barely: most are, but nobody said so.
UNLABELLED_WEIGHT = 0.1


@dataclass
class Dataset:
    """Snapshots in event-time order, their labels and what the rules scored them."""

    names: tuple[str, ...]
    transaction_ids: list
    partner_ids: np.ndarray
    accounts: list[tuple[int, str]]  # (partner id, customer-side account id)
    occurred_at: np.ndarray  # datetime64[us], UTC
    inputs: np.ndarray
    labels: np.ndarray  # 1 bad, 0 good or unlabelled
    weights: np.ndarray
    rule_scores: np.ndarray  # the decision's sum of live rule scores
    live_scores: np.ndarray  # what the live model said at decision time (NaN: none)

    def __len__(self) -> int:
        return len(self.transaction_ids)

    def select(self, mask: np.ndarray) -> Dataset:
        indexes = np.flatnonzero(mask)
        return Dataset(
            names=self.names,
            transaction_ids=[self.transaction_ids[i] for i in indexes],
            partner_ids=self.partner_ids[indexes],
            accounts=[self.accounts[i] for i in indexes],
            occurred_at=self.occurred_at[indexes],
            inputs=self.inputs[indexes],
            labels=self.labels[indexes],
            weights=self.weights[indexes],
            rule_scores=self.rule_scores[indexes],
            live_scores=self.live_scores[indexes],
        )


def training_dataset(
    *, start: datetime, end: datetime, labels_as_of: datetime, partner_id: int | None = None
) -> Dataset:
    """The snapshots of transactions that occurred in [start, end) and were decided by
    ``labels_as_of``, read as they were stored at decision time, with the labels received by
    then (the heaviest current one with a side; none: good at ``UNLABELLED_WEIGHT``); one
    partner's only when ``partner_id`` is given."""
    schemas = dict(FeatureSchema.objects.values_list("id", "names"))
    snapshots = DecisionFeatures.objects.filter(
        occurred_at__gte=start, occurred_at__lt=end, decided_at__lte=labels_as_of
    )
    if partner_id is not None:
        snapshots = snapshots.filter(partner_id=partner_id)
    rows = list(
        snapshots.order_by("occurred_at", "transaction_id").values_list(
            "transaction_id",
            "partner_id",
            "occurred_at",
            "schema_id",
            "inputs",
            "score",
            "transaction__direction",
            "transaction__originator_account_id",
            "transaction__beneficiary_account_id",
            "transaction__decision__score",
        )
    )
    names = _names(schemas, {row[3] for row in rows})
    position = {name: index for index, name in enumerate(names)}
    columns = {
        schema_id: np.array([position[name] for name in schemas[schema_id]])
        for schema_id in {row[3] for row in rows}
    }
    inputs = np.full((len(rows), len(names)), np.nan)
    for i, row in enumerate(rows):
        inputs[i, columns[row[3]]] = [np.nan if value is None else value for value in row[4]]
    ids = [row[0] for row in rows]
    # The labels of these snapshots by a join, not by a list of a million ids (measured on
    # 1,000,000: 20 s to build and send such a list, 0.4 s as a subquery).
    labels, weights = _labels(snapshots.values("transaction_id"), labels_as_of)
    return Dataset(
        names=names,
        transaction_ids=ids,
        partner_ids=np.array([row[1] for row in rows], dtype=np.int64),
        accounts=[(row[1], row[7] if row[6] == Direction.OUTBOUND else row[8]) for row in rows],
        occurred_at=np.array([row[2].replace(tzinfo=None) for row in rows], dtype="datetime64[us]"),
        inputs=inputs,
        labels=np.array([labels.get(i, 0) for i in ids], dtype=np.int8),
        weights=np.array([weights.get(i, UNLABELLED_WEIGHT) for i in ids], dtype=np.float64),
        rule_scores=np.array([row[9] or 0 for row in rows], dtype=np.float64),
        live_scores=np.array([np.nan if row[5] is None else row[5] for row in rows]),
    )


def _names(schemas: dict[int, list[str]], used: set[int]) -> tuple[str, ...]:
    """Every feature of the schemas in use, newest schema's order first."""
    names: dict[str, None] = {}
    for schema_id in sorted(used, reverse=True):
        names.update(dict.fromkeys(schemas[schema_id]))
    return tuple(names)


def _labels(ids, labels_as_of: datetime) -> tuple[dict, dict]:
    """Per transaction, the side (1 bad, 0 good) and weight of its heaviest label received by
    ``labels_as_of``; ``unknown`` labels say nothing and are skipped."""
    sides: dict = {}
    weights: dict = {}
    found = TransactionLabel.objects.filter(
        transaction_id__in=ids, received_at__lte=labels_as_of
    ).values_list("transaction_id", "outcome", "weight")
    for transaction_id, outcome, weight in found:
        side = OUTCOME_POLARITY[outcome]
        if side is None or float(weight) <= weights.get(transaction_id, -1.0):
            continue
        sides[transaction_id], weights[transaction_id] = side, float(weight)
    return sides, weights


def version_in_force(status: str = ModelStatus.LIVE) -> ModelVersion | None:
    return ModelVersion.objects.filter(status=status).first()


def change_pending() -> ModelChange | None:
    return ModelChange.objects.filter(state=ModelChangeState.PENDING).first()


def versions() -> QuerySet[ModelVersion]:
    """Versions with who trained them and what they replaced, without any artefact (the
    trees alone run to hundreds of kilobytes)."""
    return ModelVersion.objects.select_related("trained_by", "replaced").defer(
        "artefact", "anomaly_artefact", "replaced__artefact", "replaced__anomaly_artefact"
    )


def explanations_of(transaction_ids: list) -> dict:
    """Per transaction, its model score, version number and top contributions (alert and
    case pages): one query."""
    return {
        row["transaction_id"]: row
        for row in DecisionFeatures.objects.filter(transaction_id__in=transaction_ids)
        .exclude(model_version=None)
        .values("transaction_id", "score", "anomaly", "contributions", "model_version__number")
    }


# --- The staff pages (views.py) -------------------------------------------------------------


def version_page(*, number: int) -> ModelVersion | None:
    return versions().filter(number=number).first()


def version_live_page() -> ModelVersion | None:
    """The live version without its artefacts (``version_in_force`` loads them to score)."""
    return versions().filter(status=ModelStatus.LIVE).first()


def changes_of(*, version: ModelVersion) -> QuerySet[ModelChange]:
    return ModelChange.objects.filter(model_version=version).select_related(
        "requested_by", "decided_by"
    )


def change_pending_page() -> ModelChange | None:
    """The change awaiting approval, with what the page shows of it."""
    return (
        ModelChange.objects.filter(state=ModelChangeState.PENDING)
        .select_related("model_version", "requested_by")
        .defer("model_version__artefact", "model_version__anomaly_artefact")
        .first()
    )


def drifts_of(*, version: ModelVersion, limit: int = 90) -> QuerySet[ModelDrift]:
    """The version's drift measurements, newest first (a quarter of daily runs)."""
    return ModelDrift.objects.filter(model_version=version).order_by("-measured_at")[:limit]


def version_report(*, version: ModelVersion) -> dict:
    """The report a version carries, as the page lays it out: this version, the version in
    force when it was trained and the rules alone on the same hold-out, side by side."""
    report = version.report or {}
    compared = [(f"This version (v{version.number})", report.get("model"))]
    if in_force := report.get("in_force"):
        compared.append((f"Live when trained (v{in_force.get('version')})", in_force))
    compared.append(("Rules alone (sum of live rule scores)", report.get("rules_alone")))
    return {
        "alert_rate": report.get("alert_rate"),
        "rows": [_measures_row(name, measures or {}) for name, measures in compared],
        "calibration": report.get("calibration") or {"brier": None, "bins": []},
        "importances": report.get("importances") or [],
    }


def _measures_row(name: str, measures: dict) -> dict:
    at_rate = measures.get("at_alert_rate") or {}
    return {
        "name": name,
        "pr_auc": measures.get("pr_auc"),
        "recall": at_rate.get("recall"),
        "precision": at_rate.get("precision"),
        "threshold": at_rate.get("threshold"),
    }
