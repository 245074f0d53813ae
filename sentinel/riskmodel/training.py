"""Fitting and measuring models: gradient-boosted trees (LightGBM) on labelled snapshots, an
isolation forest per partner segment on all of them, and the report a version carries.

Pure functions of arrays: selectors.training_dataset reads the data, services.versions keeps
the result. LightGBM was chosen over XGBoost on this box (docs/models.md § Choosing the
library): as accurate, faster to train, and its Tree SHAP (``pred_contrib``) is built in.
"""

from __future__ import annotations

import lightgbm
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score

from .artefacts import EVERY_PARTNER
from .inputs import CATEGORICAL

# LightGBM's own defaults (31 leaves, 100 rounds of 0.1), one thread: training shares two
# cores with the pipeline. Smaller trees explain faster (Tree SHAP grows with leaves x
# depth^2 per tree) but 15 leaves missed AMLSim's figures (0.796 PR-AUC against 0.807:
# docs/models.md § Choosing the trees' size).
PARAMS = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 1,
    "verbose": -1,
    "seed": 7,
    "deterministic": True,
}
ROUNDS = 100
FOREST_TREES = 50
FOREST_SAMPLES = 256
# A partner segment with fewer decisions than this shares the forest of every partner.
FOREST_MIN_ROWS = 500
MIN_POSITIVES = 5  # fewer bad labels than this in the training part: nothing to learn from
CALIBRATION_BINS = 10


class TooFewLabels(ValueError):
    """The training window holds too few bad or good labels to train on."""


def fit_trees(
    inputs: np.ndarray, labels: np.ndarray, weights: np.ndarray, names: tuple[str, ...]
) -> lightgbm.Booster:
    positives = int(labels.sum())
    if positives < MIN_POSITIVES or positives == len(labels):
        raise TooFewLabels(
            f"The training part holds {positives} bad and {len(labels) - positives} other "
            f"transactions; at least {MIN_POSITIVES} bad and some good are needed."
        )
    data = lightgbm.Dataset(
        inputs,
        label=labels,
        weight=weights,
        feature_name=[name.replace(".", "__") for name in names],
        categorical_feature=[name.replace(".", "__") for name in CATEGORICAL if name in names],
        free_raw_data=True,
    )
    return lightgbm.train(PARAMS, data, num_boost_round=ROUNDS)


def fit_forests(inputs: np.ndarray, partner_ids: np.ndarray) -> dict[int, IsolationForest]:
    """An isolation forest per partner with enough decisions, and one for every partner (the
    segment of those with too few): the anomaly score needs no label."""
    filled = np.nan_to_num(inputs, nan=-1.0)
    forests = {EVERY_PARTNER: _forest(filled)}
    for partner_id in np.unique(partner_ids):
        rows = filled[partner_ids == partner_id]
        if len(rows) >= FOREST_MIN_ROWS:
            forests[int(partner_id)] = _forest(rows)
    return forests


def _forest(rows: np.ndarray) -> IsolationForest:
    forest = IsolationForest(
        n_estimators=FOREST_TREES,
        max_samples=min(FOREST_SAMPLES, len(rows)),
        random_state=7,
        n_jobs=1,
    )
    return forest.fit(rows)


def pr_auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Average precision (area under the precision-recall curve); None without both sides."""
    if labels.sum() == 0 or labels.sum() == len(labels):
        return None
    return round(float(average_precision_score(labels, scores)), 4)


def recall_at_rate(scores: np.ndarray, labels: np.ndarray, rate: float) -> dict:
    """Flag the top ``rate`` of the population by score (what the partner can afford to
    review): the share of bad ones flagged, and how many flagged were bad. Ties at the
    threshold are flagged together, as a threshold would."""
    if not len(scores) or not labels.sum():
        return {"rate": rate, "recall": None, "precision": None, "threshold": None}
    flagged_count = max(1, int(round(rate * len(scores))))
    threshold = float(np.sort(scores)[::-1][flagged_count - 1])
    flagged = scores >= threshold
    return {
        "rate": rate,
        "threshold": round(threshold, 6),
        "recall": round(float(labels[flagged].sum() / labels.sum()), 4),
        "precision": round(float(labels[flagged].mean()), 4),
    }


def recall_at_normal_share(scores: np.ndarray, labels: np.ndarray, share: float) -> float | None:
    """The share of bad ones scoring above the score that ``share`` of the good ones reach
    (AMLSim's and the demo's measure: "recall at 1 % of normal accounts")."""
    good, bad = scores[labels == 0], scores[labels == 1]
    if not len(good) or not len(bad):
        return None
    threshold = np.quantile(good, 1 - share, method="higher")
    return round(float((bad > threshold).mean()), 4)


def calibration(scores: np.ndarray, labels: np.ndarray) -> dict:
    """Brier score and, per tenth of the score range, the mean score against the bad rate."""
    bins = []
    edges = np.linspace(0, 1, CALIBRATION_BINS + 1)
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (scores >= low) & ((scores < high) | (high == 1))
        if inside.any():
            bins.append(
                {
                    "from": round(float(low), 2),
                    "to": round(float(high), 2),
                    "count": int(inside.sum()),
                    "mean_score": round(float(scores[inside].mean()), 4),
                    "bad_rate": round(float(labels[inside].mean()), 4),
                }
            )
    brier = float(np.mean((scores - labels) ** 2)) if len(scores) else None
    return {"brier": None if brier is None else round(brier, 5), "bins": bins}


def importances(booster: lightgbm.Booster, names: tuple[str, ...], top: int = 10) -> list:
    """The features the trees gained most from, as [name, share of total gain]."""
    gains = booster.feature_importance(importance_type="gain")
    total = float(gains.sum()) or 1.0
    order = np.argsort(-gains)[:top]
    return [[names[i], round(float(gains[i]) / total, 4)] for i in order if gains[i] > 0]


def measures(scores: np.ndarray, labels: np.ndarray, alert_rate: float) -> dict:
    return {
        "pr_auc": pr_auc(scores, labels),
        "at_alert_rate": recall_at_rate(scores, labels, alert_rate),
    }


PSI_BINS = 10
_PSI_FLOOR = 1e-4  # an empty bin on one side: a small share, not a division by zero


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = PSI_BINS) -> float | None:
    """Population stability index of ``actual`` against ``expected``: deciles of the expected
    values, sum over bins of (a - e) * ln(a / e). Missing values are a bin of their own.
    Rule of thumb: under 0.1 stable, 0.1-0.25 moving, over 0.25 shifted. None without data."""
    expected, actual = np.asarray(expected, float), np.asarray(actual, float)
    if not len(expected) or not len(actual):
        return None
    present = expected[~np.isnan(expected)]
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1))) if len(present) else []
    inner = edges[1:-1] if len(edges) > 2 else np.array([])

    def shares(values: np.ndarray) -> np.ndarray:
        missing = np.isnan(values)
        counts = np.bincount(
            np.searchsorted(inner, values[~missing], side="right"), minlength=len(inner) + 1
        )
        counts = np.append(counts, missing.sum())
        return np.maximum(counts / len(values), _PSI_FLOOR)

    e, a = shares(expected), shares(actual)
    return round(float(np.sum((a - e) * np.log(a / e))), 4)
