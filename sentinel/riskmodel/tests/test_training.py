"""The report's measures, on numbers worked out by hand (no database)."""

from __future__ import annotations

import numpy as np

from sentinel.riskmodel import training
from sentinel.riskmodel.artefacts import EVERY_PARTNER, ForestScorer


def test_recall_at_the_alert_rate_flags_the_top_share_by_score():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    labels = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])

    measured = training.recall_at_rate(scores, labels, 0.3)

    assert measured == {"rate": 0.3, "threshold": 0.7, "recall": 0.6667, "precision": 0.6667}


def test_recall_at_a_share_of_normal_ones_counts_bad_ones_above_that_line():
    good = np.linspace(0, 0.99, 100)  # the top 1 % of good ones start at 0.99
    scores = np.concatenate([good, [0.995, 0.98, 0.5]])
    labels = np.array([0] * 100 + [1, 1, 1])

    assert training.recall_at_normal_share(scores, labels, 0.01) == round(1 / 3, 4)
    assert training.recall_at_normal_share(scores, labels, 0.05) == round(2 / 3, 4)


def test_pr_auc_needs_both_sides():
    assert training.pr_auc(np.array([0.1, 0.9]), np.array([0, 0])) is None
    assert training.pr_auc(np.array([0.1, 0.9]), np.array([0, 1])) == 1.0


def test_calibration_compares_mean_score_and_bad_rate_per_tenth():
    scores = np.array([0.05, 0.05, 0.95, 0.95])
    labels = np.array([0.0, 0.0, 1.0, 0.0])

    measured = training.calibration(scores, labels)

    assert measured["brier"] == round((0.05**2 * 2 + 0.05**2 + 0.95**2) / 4, 5)
    assert [(b["from"], b["count"], b["bad_rate"]) for b in measured["bins"]] == [
        (0.0, 2, 0.0),
        (0.9, 2, 0.5),
    ]


def test_psi_is_near_zero_for_the_same_population_and_large_for_a_shifted_one():
    rng = np.random.default_rng(3)
    before = rng.normal(size=5000)

    assert training.psi(before, rng.normal(size=5000)) < 0.02
    assert training.psi(before, rng.normal(loc=1.0, size=5000)) > 0.25
    assert training.psi(before, np.array([])) is None


def test_psi_counts_values_going_missing_as_drift():
    before = np.arange(1000, dtype=float)
    after = before.copy()
    after[:500] = np.nan  # a provider stopped giving half its values

    assert training.psi(before, after) > 0.25


def test_the_forest_scorer_gives_scikit_learns_anomaly_score_row_for_row():
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(3000, 12))
    inputs[rng.random(inputs.shape) < 0.1] = np.nan
    inputs[:30] += 6  # a few strange rows
    forest = training.fit_forests(inputs, np.zeros(len(inputs), dtype=np.int64))[EVERY_PARTNER]
    filled = np.nan_to_num(inputs, nan=-1.0)

    ours = ForestScorer.of(forest).scores(filled.astype(np.float32))

    np.testing.assert_allclose(ours, -forest.score_samples(filled), rtol=0, atol=1e-12)
    assert ours[:30].mean() > ours[30:].mean()
    single = ForestScorer.of(forest).scores(filled[:1].astype(np.float32))
    assert single[0] == ours[0]
