"""Training on labelled decisions, and the model's score in the next decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from rules import engine
from rules.models import Decision, RuleFailure
from rules.tests.factories import officer, only_these_rules, rule
from sentinel.riskmodel import scoring
from sentinel.riskmodel.artefacts import sha256
from sentinel.riskmodel.choices import ModelStatus
from sentinel.riskmodel.models import DecisionFeatures, ModelVersion
from sentinel.riskmodel.services import (
    model_change_approve,
    model_live_request,
    model_train,
)
from sentinel.riskmodel.training import TooFewLabels
from transactions.tests.factories import PartnerBankFactory, transaction_payload

from .factories import iso, labelled_population, scored

pytestmark = pytest.mark.django_db


@pytest.fixture
def window():
    now = timezone.now()
    return {
        "start": now - timedelta(hours=61),
        "holdout_start": now - timedelta(hours=24),
        "end": now,
    }


@pytest.fixture
def partner():
    return PartnerBankFactory()


@pytest.fixture
def population(partner, window):
    return labelled_population(partner, start=window["start"] + timedelta(hours=1))


def _payment(partner, external_id: str, amount: str, country: str):
    (tx,) = scored(
        partner,
        [
            transaction_payload(
                external_id=external_id,
                occurred_at=iso(timezone.now() - timedelta(minutes=1)),
                amount=amount,
                originator={
                    "account_id": f"new-{external_id}",
                    "customer_id": "x",
                    "country": "US",
                },
                beneficiary={"account_id": "p", "country": country, "name": "Payee"},
            )
        ],
    )
    return DecisionFeatures.objects.get(transaction=tx)


def test_training_keeps_a_shadow_version_with_its_window_counts_checksum_and_report(
    population, window
):
    version = model_train(**window, alert_rate=0.1)

    assert (version.number, version.status) == (1, ModelStatus.SHADOW)
    assert version.train_rows + version.holdout_rows == len(population) == 100
    assert version.train_positives + version.holdout_positives == 20
    assert version.holdout_positives > 0 and version.train_positives >= 5
    assert version.artefact_sha256 == sha256(version.artefact.encode())
    assert "amount_log10" in version.features and version.library.startswith("lightgbm")
    report = version.report
    assert report["model"]["pr_auc"] == 1.0  # the planted fraud is plain to see
    assert report["model"]["at_alert_rate"]["recall"] == 1.0
    assert report["rules_alone"]["pr_auc"] is not None
    assert report["in_force"] is None  # nothing live to compare with yet
    assert report["importances"][0][0] in {"amount_log10", "cross_border", "account.out_sum_24h"}
    assert {"brier", "bins"} <= set(report["calibration"])


def test_too_few_bad_labels_trains_nothing(partner, window):
    scored(partner, [transaction_payload(occurred_at=iso(window["start"] + timedelta(hours=2)))])

    with pytest.raises(TooFewLabels, match="at least 5 bad"):
        model_train(**window)
    assert not ModelVersion.objects.exists()


def test_a_shadow_model_scores_apart_and_the_rules_see_no_score_until_it_is_live(
    population, partner, window
):
    only_these_rules(rule(expression="model.score != null and model.score >= 0.5", score=100))
    version = model_train(**window)
    engine.forget()
    scoring.forget()

    shadowed = _payment(partner, "shadowed", "7000.00", "CY")

    assert shadowed.model_version is None and shadowed.score is None
    assert shadowed.shadow_version == version and shadowed.shadow_score > 0.5
    assert Decision.objects.get(transaction_id=shadowed.pk).score == 0  # the rule saw null
    assert not RuleFailure.objects.exists()  # no score is not an error

    first, second = officer(), officer()
    change = model_live_request(version=version, actor=first)
    model_change_approve(change=change, approver=second)
    scoring.forget()

    bad = _payment(partner, "bad", "7000.00", "CY")
    good = _payment(partner, "good", "60.00", "US")
    assert bad.model_version == version and bad.score > 0.5 > good.score
    assert Decision.objects.get(transaction_id=bad.pk).score == 100  # the live rule fired
    names = [name for name, _, _ in bad.contributions]
    assert names and set(names) <= set(version.features)
    assert bad.contributions[0][2] > 0  # the top reason pushed the score up
    assert 0 < bad.anomaly < 1


def test_a_corrupt_artefact_leaves_no_model_and_scoring_goes_on(population, partner, window):
    version = model_train(**window)
    ModelVersion.objects.filter(pk=version.pk).update(
        status=ModelStatus.LIVE, artefact_sha256="0" * 64
    )
    scoring.forget()

    snapshot = _payment(partner, "after", "7000.00", "CY")

    assert snapshot.score is None and snapshot.model_version is None


def test_the_trainer_may_not_approve_the_version_they_trained(population, window):
    trainer, other = officer(), officer()
    version = model_train(**window, actor=trainer)
    change = model_live_request(version=version, actor=other)

    with pytest.raises(PermissionDenied, match="You trained"):
        model_change_approve(change=change, approver=trainer)
    version.refresh_from_db()
    assert version.status == ModelStatus.SHADOW
