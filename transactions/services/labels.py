"""Labels: what a transaction turned out to be, from a partner, a case or an alert.

One current label per (transaction, source), replaced by a later one (last one wins), and
every label ever recorded in the append-only ``TransactionLabelEvent``. Higher apps (cases,
alerts) call ``transaction_labels_record`` inside their own database transaction, so a label
exists exactly when the closure or dismissal it comes from does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from ..choices import LabelOutcome, LabelSource, LabelWeight
from ..models import ApiKey, Transaction, TransactionLabel, TransactionLabelEvent
from ..signals import flagged_accounts_announce

# The fields a label is compared on to tell a repeat from a change.
_SAID = ("outcome", "weight", "occurred_at", "reason")
_BATCH = 1000


@dataclass(frozen=True)
class LabelResult:
    label: TransactionLabel
    created: bool  # the first label from this source
    changed: bool  # False: the same label again, nothing recorded


def transaction_feedback_record(
    *,
    transaction: Transaction,
    api_key: ApiKey,
    outcome: str,
    occurred_at: datetime,
    reason: str = "",
) -> LabelResult:
    """A partner's outcome on its own (already authorised) transaction. The same outcome,
    time and reason again changes nothing; anything else replaces the current label and is
    added to the history."""
    now = timezone.now()
    said = {
        "outcome": outcome,
        "weight": LabelWeight.PARTNER_FEEDBACK,
        "occurred_at": occurred_at,
        "reason": reason,
        "reference": f"key {api_key.key_id}",
    }
    _validate(TransactionLabel(source=LabelSource.PARTNER_FEEDBACK, received_at=now, **said))
    with db_transaction.atomic():
        label, created = _locked_label(transaction, LabelSource.PARTNER_FEEDBACK, now, said)
        before = None if created else label.outcome
        if not created:
            if all(getattr(label, name) == said[name] for name in _SAID):
                return LabelResult(label=label, created=False, changed=False)
            for name, value in said.items():
                setattr(label, name, value)
            label.received_at = now
            label.save()
        TransactionLabelEvent.objects.create(**_event_fields(label))
        _fraud_confirmation_announce(transaction, before, outcome)
    return LabelResult(label=label, created=created, changed=True)


def _fraud_confirmation_announce(transaction: Transaction, before: str | None, now: str) -> None:
    """Confirmed fraud flags the account the money went to (docs/network.md § Proximity);
    taking a confirmation back may unflag it."""
    fraud = LabelOutcome.CONFIRMED_FRAUD
    if now == fraud and before != fraud:
        flagged_accounts_announce(
            partner_id=transaction.partner_id, accounts=[transaction.beneficiary_account_id]
        )
    elif before == fraud and now != fraud:
        flagged_accounts_announce(partner_id=transaction.partner_id)


def _validate(label: TransactionLabel) -> None:
    """Field choices and lengths before anything is written (the database checks the rest)."""
    label.full_clean(
        exclude=["transaction", "actor"], validate_unique=False, validate_constraints=False
    )


def _locked_label(
    transaction: Transaction, source: str, now: datetime, said: dict
) -> tuple[TransactionLabel, bool]:
    """The current label from ``source``, locked, and whether it was just created (from
    ``said``). Two first labels at once: the loser of the unique constraint waits for the
    winner's, then compares with it or replaces it like any later label."""
    labels = TransactionLabel.objects.select_for_update()
    label = labels.filter(transaction=transaction, source=source).first()
    if label is not None:
        return label, False
    try:
        with db_transaction.atomic():
            label = TransactionLabel.objects.create(
                transaction=transaction, source=source, received_at=now, **said
            )
        return label, True
    except IntegrityError:
        return labels.get(transaction=transaction, source=source), False


def transaction_labels_record(
    *,
    transaction_ids: Iterable,
    source: str,
    outcome: str,
    weight: Decimal,
    reason: str,
    actor,
    reference: str,
    occurred_at: datetime | None = None,
) -> int:
    """Label each transaction from ``source`` (a case's disposition, an alert's dismissal):
    the current label is replaced, and every one is added to the history. Runs in the
    caller's transaction. Returns how many transactions were labelled."""
    ids = sorted(set(transaction_ids))
    if not ids:
        return 0
    now = timezone.now()
    said = {
        "source": source,
        "outcome": outcome,
        "weight": weight,
        "occurred_at": occurred_at or now,
        "reason": reason,
        "actor": actor,
        "reference": reference,
    }
    _validate(TransactionLabel(received_at=now, **said))
    with db_transaction.atomic():
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            TransactionLabel.objects.bulk_create(
                [TransactionLabel(transaction_id=pk, received_at=now, **said) for pk in chunk],
                update_conflicts=True,
                unique_fields=["transaction", "source"],
                update_fields=[*_SAID, "actor", "reference", "received_at"],
            )
            TransactionLabelEvent.objects.bulk_create(
                [TransactionLabelEvent(transaction_id=pk, **said) for pk in chunk]
            )
    return len(ids)


def _event_fields(label: TransactionLabel) -> dict:
    return {
        "transaction_id": label.transaction_id,
        "source": label.source,
        "actor_id": label.actor_id,
        "reference": label.reference,
        **{name: getattr(label, name) for name in _SAID},
    }
