"""Labels: the current one per (transaction, source), the append-only history behind it, and
the transaction's admin page that shows both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.db import transaction as db_transaction

from sentinel.history import AppendOnlyError
from sentinel.testing import run_concurrently
from transactions.choices import LabelOutcome, LabelSource, LabelWeight
from transactions.models import TransactionLabel, TransactionLabelEvent
from transactions.services import (
    api_key_create,
    transaction_feedback_record,
    transaction_labels_record,
    transactions_ingest,
)

from .factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    """Two stored transactions of one partner."""
    partner = PartnerBankFactory()
    results = transactions_ingest(
        partner=partner, payloads=[transaction_payload(), transaction_payload()]
    )
    return partner, [result.id for result in results]


@pytest.fixture
def ivy(django_user_model):
    user = django_user_model.objects.create_user("ivy", password="pw-long-enough", is_staff=True)
    user.groups.add(Group.objects.get(name="Investigator"))
    return user


def _dismissed(ids, actor, reason="Payroll, as every month.", reference="alert #1") -> int:
    return transaction_labels_record(
        transaction_ids=ids,
        source=LabelSource.ALERT_DISMISSAL,
        outcome=LabelOutcome.LEGITIMATE,
        weight=LabelWeight.ALERT_DISMISSED,
        reason=reason,
        actor=actor,
        reference=reference,
    )


def test_staff_labels_replace_the_current_one_and_keep_every_one_in_history(sent, ivy):
    _, ids = sent

    assert _dismissed(ids, ivy) == 2
    assert _dismissed(ids[:1] * 3, ivy, reason="Seen again.", reference="alert #2") == 1

    current = {label.transaction_id: label for label in TransactionLabel.objects.all()}
    assert current[ids[0]].reason == "Seen again."
    assert current[ids[0]].reference == "alert #2"
    assert current[ids[1]].reason == "Payroll, as every month."
    assert {(label.source, label.weight, label.actor) for label in current.values()} == {
        ("alert_dismissal", Decimal("0.20"), ivy)
    }
    history = TransactionLabelEvent.objects.filter(transaction_id=ids[0])
    assert [event.reference for event in history] == ["alert #1", "alert #2"]
    assert TransactionLabelEvent.objects.count() == 3


def test_one_current_label_per_source(sent, ivy):
    partner, ids = sent
    api_key, _ = api_key_create(partner=partner)
    _dismissed(ids[:1], ivy)

    transaction_feedback_record(
        transaction=partner.transactions.get(pk=ids[0]),
        api_key=api_key,
        outcome=LabelOutcome.CONFIRMED_FRAUD,
        occurred_at=datetime.now(UTC),
    )

    labels = TransactionLabel.objects.filter(transaction_id=ids[0]).order_by("source")
    assert [(label.source, label.outcome, label.polarity) for label in labels] == [
        ("alert_dismissal", "legitimate", 0),
        ("partner_feedback", "confirmed_fraud", 1),
    ]


def test_no_transactions_means_no_labels(ivy):
    assert _dismissed([], ivy) == 0
    assert not TransactionLabelEvent.objects.exists()


def test_a_bad_label_is_refused_before_anything_is_written(sent, ivy):
    _, ids = sent

    with pytest.raises(ValidationError) as refused:
        transaction_labels_record(
            transaction_ids=ids,
            source=LabelSource.CASE_DISPOSITION,
            outcome="probably_fine",
            weight=LabelWeight.CASE_CLEARED,
            reason="",
            actor=ivy,
            reference="case #1",
        )

    assert "outcome" in refused.value.message_dict
    assert not TransactionLabel.objects.exists()
    assert not TransactionLabelEvent.objects.exists()


@pytest.mark.parametrize("weight", [Decimal("1.01"), Decimal("-0.01")])
def test_the_database_keeps_weights_between_0_and_1(sent, ivy, weight):
    _, ids = sent

    with pytest.raises(IntegrityError), db_transaction.atomic():
        transaction_labels_record(
            transaction_ids=ids,
            source=LabelSource.CASE_DISPOSITION,
            outcome=LabelOutcome.SUSPICIOUS,
            weight=weight,
            reason="",
            actor=ivy,
            reference="case #1",
        )

    assert not TransactionLabel.objects.exists()


def test_a_partner_label_names_no_staff_member(sent, ivy):
    _, ids = sent

    with pytest.raises(IntegrityError), db_transaction.atomic():
        transaction_labels_record(
            transaction_ids=ids,
            source=LabelSource.PARTNER_FEEDBACK,
            outcome=LabelOutcome.LEGITIMATE,
            weight=LabelWeight.PARTNER_FEEDBACK,
            reason="",
            actor=ivy,
            reference="key x",
        )


def test_history_rows_cannot_be_changed_or_removed(sent, ivy):
    _, ids = sent
    _dismissed(ids[:1], ivy)
    event = TransactionLabelEvent.objects.get()

    event.outcome = LabelOutcome.CONFIRMED_FRAUD
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(IntegrityError, match="history rows are append-only"):
        with db_transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE transactions_transactionlabelevent SET outcome = 'confirmed_fraud' "
                "WHERE id = %s",
                [event.pk],
            )

    assert TransactionLabelEvent.objects.get().outcome == "legitimate"


def test_a_labelled_transaction_cannot_be_deleted(sent, ivy):
    partner, ids = sent
    _dismissed(ids[:1], ivy)

    with pytest.raises(IntegrityError), db_transaction.atomic():
        partner.transactions.filter(pk=ids[0]).delete()

    assert TransactionLabelEvent.objects.filter(transaction_id=ids[0]).exists()


def test_the_admin_page_shows_the_current_labels_and_their_history(sent, ivy, client):
    partner, ids = sent
    api_key, _ = api_key_create(partner=partner)
    transaction = partner.transactions.get(pk=ids[0])
    _dismissed(ids[:1], ivy, reason="Looked like payroll.")
    for outcome in (LabelOutcome.LEGITIMATE, LabelOutcome.CHARGEBACK):
        transaction_feedback_record(
            transaction=transaction,
            api_key=api_key,
            outcome=outcome,
            occurred_at=datetime.now(UTC) - timedelta(hours=1),
            reason=f"Partner says {outcome}.",
        )
    client.force_login(ivy)

    page = client.get(f"/admin/transactions/transaction/{ids[0]}/change/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Labels (current, one per source)" in text and "Label history" in text
    assert "Looked like payroll." in text
    assert "Partner says chargeback." in text
    # replaced on the current label, still in the history
    assert "Partner says legitimate." in text
    assert text.count("Partner feedback") >= 3  # one current, two in history
    assert f"key {api_key.key_id}" in text


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_feedback_is_recorded_once():
    partner = PartnerBankFactory()
    (result,) = transactions_ingest(partner=partner, payloads=[transaction_payload()])
    transaction = partner.transactions.get(pk=result.id)
    api_key, _ = api_key_create(partner=partner)
    occurred_at = datetime.now(UTC) - timedelta(days=1)

    results = run_concurrently(
        6,
        lambda: transaction_feedback_record(
            transaction=transaction,
            api_key=api_key,
            outcome=LabelOutcome.CHARGEBACK,
            occurred_at=occurred_at,
        ),
    )

    assert sorted(r.created for r in results) == [False] * 5 + [True]
    assert sum(r.changed for r in results) == 1
    assert TransactionLabel.objects.count() == 1
    assert TransactionLabelEvent.objects.count() == 1
