"""Reads for partners, transactions, profiles and labels."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db.models import Prefetch
from django.utils import timezone

from . import profile_cache
from .choices import LabelSource
from .models import (
    AccountProfile,
    PartnerBank,
    Transaction,
    TransactionLabel,
    TransactionLabelEvent,
)


def account_profile_get(*, partner_id: int, account_external_id: str) -> dict | None:
    """The account's profile from Redis; on a miss, from PostgreSQL, refilling the cache."""
    cached = profile_cache.cached_profile(partner_id, account_external_id)
    if cached is not None:
        return cached
    profile = (
        AccountProfile.objects.select_related("account__customer")
        .filter(account__partner_id=partner_id, account__external_id=account_external_id)
        .first()
    )
    if profile is None:
        return None
    cached = profile_cache.profile_as_dict(profile)
    profile_cache.cache_profiles({(partner_id, account_external_id): cached})
    return cached


def partner_activity_summary() -> list[dict]:
    """Per partner: transactions in the last 24 hours, by status, and the latest one."""
    from django.db.models import Count, Max, Q

    since = timezone.now() - timedelta(hours=24)
    recent = Q(transactions__occurred_at__gte=since)
    rows = PartnerBank.objects.annotate(
        last_24h=Count("transactions", filter=recent),
        failed=Count("transactions", filter=recent & Q(transactions__status="failed")),
        denied=Count("transactions", filter=recent & Q(transactions__status="denied")),
        reversed=Count("transactions", filter=recent & Q(transactions__status="reversed")),
        last_occurred_at=Max("transactions__occurred_at"),
    ).order_by("name")
    return list(rows)


def transaction_of_partner(*, partner: PartnerBank, transaction_id: str) -> Transaction | None:
    """The partner's own transaction with this id; None for another partner's, an unknown
    or a malformed id alike (a partner cannot tell them apart)."""
    try:
        pk = uuid.UUID(str(transaction_id))
    except ValueError:
        return None
    return Transaction.objects.select_related("partner").filter(partner=partner, pk=pk).first()


def partner_feedback_prefetch(prefix: str = "") -> Prefetch:
    """Puts a transaction's current partner feedback in ``partner_feedback`` (a list of at
    most one), for lists that show it."""
    return Prefetch(
        f"{prefix}labels",
        queryset=TransactionLabel.objects.filter(source=LabelSource.PARTNER_FEEDBACK),
        to_attr="partner_feedback",
    )


def partner_feedback_of(transaction: Transaction) -> TransactionLabel | None:
    """The transaction's current partner feedback (prefetched or read)."""
    prefetched = getattr(transaction, "partner_feedback", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return transaction.labels.filter(source=LabelSource.PARTNER_FEEDBACK).first()


def labels_prefetch(prefix: str = "") -> Prefetch:
    """A transaction's current labels, one per source, with who set them (staff pages)."""
    return Prefetch(
        f"{prefix}labels",
        queryset=TransactionLabel.objects.select_related("actor").order_by("source"),
    )


def transaction_label_history(transaction: Transaction) -> list[TransactionLabelEvent]:
    """Every label recorded for the transaction, oldest first."""
    return list(
        TransactionLabelEvent.objects.filter(transaction=transaction)
        .select_related("actor")
        .order_by("received_at", "id")
    )
