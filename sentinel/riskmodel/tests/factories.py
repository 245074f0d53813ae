"""Scored transactions and labels for the model's tests, through the real pipeline."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from rules.tests.factories import officer
from sentinel.pipeline.orchestrator import transactions_process
from sentinel.riskmodel import scoring
from sentinel.riskmodel.models import ModelVersion
from sentinel.riskmodel.services import model_change_approve, model_live_request, model_train
from transactions.choices import LabelSource
from transactions.models import Transaction, TransactionLabel
from transactions.services import transactions_ingest
from transactions.tests.factories import transaction_payload

_accounts = itertools.count(1)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def scored(partner, payloads: list[dict]) -> list[Transaction]:
    """Ingest and run the pipeline on the payloads, in the order given; the transactions."""
    results = transactions_ingest(partner=partner, payloads=payloads)
    transactions_process(transaction_ids=[result.id for result in results])
    return [result.transaction for result in results]


def labelled_population(partner, *, good: int = 80, bad: int = 20, start: datetime) -> dict:
    """Ordinary customers paying 20-220 at home, and fraudsters sending 5,000-9,000 to
    Cyprus; every one labelled by the partner. Spread evenly over the 48 hours from
    ``start``, interleaved, so a time split sees both kinds on each side."""
    payloads, sides = [], {}
    total = good + bad
    for i in range(total):
        is_bad = i % (total // bad) == 0 and sum(sides.values()) < bad
        account = f"acct-{next(_accounts)}"
        when = start + timedelta(hours=48 * i / total)
        payload = transaction_payload(
            external_id=f"pop-{account}",
            occurred_at=iso(when),
            amount=f"{5000 + 40 * i}.00" if is_bad else f"{20 + 2 * i}.00",
            originator={"account_id": account, "customer_id": f"c-{account}", "country": "US"},
            beneficiary={
                "account_id": f"b-{account}",
                "country": "CY" if is_bad else "US",
                "name": "Payee",
            },
        )
        payloads.append(payload)
        sides[payload["external_id"]] = is_bad
    transactions = scored(partner, payloads)
    for tx in transactions:
        label(tx, "confirmed_fraud" if sides[tx.external_id] else "legitimate")
    return {tx.external_id: sides[tx.external_id] for tx in transactions}


def drifting_live_model(partner) -> ModelVersion:
    """A live model trained on two ordinary days that ended more than a day ago, then a last
    day (the past half hour) of very large payments to Cyprus: traffic unlike anything it
    learnt from, for drift."""
    now = timezone.now()
    labelled_population(partner, start=now - timedelta(hours=80))
    version = model_train(
        start=now - timedelta(hours=81),
        holdout_start=now - timedelta(hours=44),
        end=now - timedelta(hours=30),
    )
    model_change_approve(
        change=model_live_request(version=version, actor=officer()), approver=officer()
    )
    scoring.forget()
    later = timezone.now()
    scored(
        partner,
        [
            transaction_payload(
                external_id=f"big-{i}",
                occurred_at=iso(later - timedelta(minutes=30 - i)),
                amount=f"{60000 + i}.00",
                originator={"account_id": f"d-{i}", "customer_id": f"d-{i}", "country": "US"},
                beneficiary={"account_id": "x", "country": "CY", "name": "Payee"},
            )
            for i in range(20)
        ],
    )
    return version


def label(tx: Transaction, outcome: str, *, received_at: datetime | None = None) -> None:
    TransactionLabel.objects.create(
        transaction=tx,
        source=LabelSource.PARTNER_FEEDBACK,
        outcome=outcome,
        weight=Decimal("1.00"),
        occurred_at=tx.occurred_at,
        reference="key test",
        received_at=received_at or timezone.now(),
    )


# A report as training stores it (services/versions._report), with a version in force.
REPORT = {
    "alert_rate": 0.01,
    "model": {
        "pr_auc": 0.8123,
        "at_alert_rate": {"rate": 0.01, "threshold": 0.91, "recall": 0.64, "precision": 0.72},
    },
    "calibration": {
        "brier": 0.04211,
        "bins": [
            {"from": 0.0, "to": 0.1, "count": 900, "mean_score": 0.021, "bad_rate": 0.018},
            {"from": 0.9, "to": 1.0, "count": 25, "mean_score": 0.944, "bad_rate": 0.88},
        ],
    },
    "importances": [["amount_log10", 0.4312], ["new_payees_24h", 0.2011]],
    "rules_alone": {
        "pr_auc": 0.5521,
        "at_alert_rate": {"rate": 0.01, "threshold": 60.0, "recall": 0.31, "precision": 0.44},
    },
    "in_force": {
        "version": 1,
        "pr_auc": 0.7702,
        "at_alert_rate": {"rate": 0.01, "threshold": 0.88, "recall": 0.58, "precision": 0.66},
    },
    "train": {"rows": 1000, "bad": 60},
    "holdout": {"rows": 250, "bad": 14},
}


def model_version(
    number: int, status: str = "retired", *, trained_by=None, report: dict | None = None, **fields
) -> ModelVersion:
    """A version as training leaves it, without artefacts (pages and governance never load
    them); ``fields`` override the rest."""
    now = timezone.now()
    values = {
        "window_start": now - timedelta(days=30),
        "holdout_start": now - timedelta(days=6),
        "window_end": now,
        "labels_as_of": now,
        "train_rows": 1000,
        "train_positives": 60,
        "holdout_rows": 250,
        "holdout_positives": 14,
        "features": ["amount_log10", "new_payees_24h"],
        "library": "lightgbm test",
        "artefact": "",
        "artefact_sha256": "ab" * 32,
        "anomaly_artefact": b"",
        "anomaly_sha256": "",
        **fields,
    }
    return ModelVersion.objects.create(
        number=number, status=status, trained_by=trained_by, report=report or {}, **values
    )
