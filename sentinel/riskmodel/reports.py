"""``model_report``: rules alone against rules plus model, on accounts with known labels, with
a time split (train on the earlier part of the stored decisions, measure on the later).

Accounts are what the labels name (``rules.TypologyLabel``: the demo's planted typologies),
so the measures are per account over the test part: an account's model score is the highest
of its transactions', its rules score the highest sum of live rule scores. The model trains on
the planted transactions themselves where the demo marked them, else on every transaction of
a labelled account.
"Rules plus model" ranks every account with a live hit first, then by model score: the rules'
alerts, with the model's best candidates after them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db.models import Max, Min

from rules.models import TypologyLabel
from transactions.models import Transaction

from . import training
from .models import DecisionFeatures
from .selectors import training_dataset

NORMAL_SHARES = (0.01, 0.05)
TOP_FEATURES = 8
# The metadata key seed_demo marks its planted transactions with (sentinel.demo, which this
# app may not import): where present, the planted transactions are the bad ones.
PLANTED_KEY = "demo_typology"


@dataclass
class ModelReport:
    split_at: str
    train_rows: int
    train_bad: int
    accounts: int
    bad_accounts: int
    figures: dict  # "rules", "model", "rules_plus_model" -> pr_auc, recall at each share
    top_features: list[tuple[str, float]]  # what the trees gained most from, share of gain

    def as_dict(self) -> dict:
        return self.__dict__


def model_report(
    *,
    train_share: float = 0.6,
    partner_id: int | None = None,
    bad_accounts: set[tuple[int, str]] | None = None,
    split_at: datetime | None = None,
) -> ModelReport | None:
    """Train on the earlier decisions and measure per account on the later ones; None without
    labelled accounts or decisions.

    By default the labels are the demo's (``TypologyLabel``) over every partner, split at
    ``train_share`` of the decisions. A benchmark gives its own: one partner's decisions,
    its labelled accounts (``bad_accounts``: every transaction of one is bad) and where its
    time split falls (``split_at``).
    """
    planted_only = bad_accounts is None
    if bad_accounts is None:
        bad_accounts = set(
            TypologyLabel.objects.values_list("partner_id", "account_external_id").distinct()
        )
    snapshots = DecisionFeatures.objects.all()
    if partner_id is not None:
        snapshots = snapshots.filter(partner_id=partner_id)
    span = snapshots.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    if not bad_accounts or span["first"] is None:
        return None
    start, end = span["first"], span["last"] + timedelta(seconds=1)
    data = training_dataset(
        start=start, end=end, labels_as_of=end + timedelta(days=3650), partner_id=partner_id
    )
    planted = (
        set(Transaction.objects.filter(metadata__has_key=PLANTED_KEY).values_list("id", flat=True))
        if planted_only
        else set()
    )
    if planted:  # the pattern's own transactions, not the account's ordinary ones
        data.labels = np.array([i in planted for i in data.transaction_ids], dtype=np.int8)
    else:
        data.labels = np.array([a in bad_accounts for a in data.accounts], dtype=np.int8)
    data.weights = np.ones(len(data))
    if split_at is None:
        # Split by decisions, not by calendar: a few old rows (a dormant account's history)
        # must not stretch the range so that the training part holds nothing else.
        split_time = data.occurred_at[int(len(data) * train_share)]
    else:
        split_time = np.datetime64(split_at.astimezone(UTC).replace(tzinfo=None), "us")
    split = split_time.astype("datetime64[us]").item().replace(tzinfo=UTC)
    earlier = data.occurred_at < split_time
    train, test = data.select(earlier), data.select(~earlier)
    if not len(test):
        return None
    booster = training.fit_trees(train.inputs, train.labels, train.weights, data.names)
    scores = booster.predict(test.inputs, num_threads=1)
    per_account: dict[tuple, list[float]] = {}
    bad_in_test = set()
    for account, score, rules, bad in zip(
        test.accounts, scores, test.rule_scores, test.labels, strict=True
    ):
        best = per_account.setdefault(account, [0.0, 0.0])
        best[0], best[1] = max(best[0], score), max(best[1], rules)
        if bad:
            bad_in_test.add(account)
    # A labelled account whose pattern happened before the split is neither a catch to make
    # in the test part nor a normal account: left out.
    accounts = [a for a in per_account if a in bad_in_test or a not in bad_accounts]
    labels = np.array([account in bad_in_test for account in accounts], dtype=np.int8)
    model = np.array([per_account[account][0] for account in accounts])
    rules = np.array([per_account[account][1] for account in accounts])
    combined = (rules > 0).astype(float) + model
    importance = booster.feature_importance(importance_type="gain")
    return ModelReport(
        split_at=split.isoformat(),
        train_rows=len(train),
        train_bad=int(train.labels.sum()),
        accounts=len(accounts),
        bad_accounts=int(labels.sum()),
        figures={
            name: _measures(values, labels)
            for name, values in (("rules", rules), ("model", model), ("rules_plus_model", combined))
        },
        top_features=[
            (data.names[i], round(float(importance[i] / importance.sum()), 3))
            for i in np.argsort(-importance)[:TOP_FEATURES]
        ],
    )


def _measures(scores: np.ndarray, labels: np.ndarray) -> dict:
    return {
        "pr_auc": training.pr_auc(scores, labels),
        **{
            f"recall_at_{share:.0%}_normal": training.recall_at_normal_share(scores, labels, share)
            for share in NORMAL_SHARES
        },
    }
