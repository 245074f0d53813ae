"""Reads of the pipeline: what waits to be processed, and what was set aside."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from rules.selectors import live_hits_prefetch
from transactions.models import PartnerBank, Transaction
from transactions.selectors import partner_feedback_prefetch

from .models import DeadLetter


def transactions_to_sweep(*, older_than_seconds: int, limit: int) -> list:
    """Ids of accepted transactions the queue lost (or has not reached yet), oldest first;
    dead letters waiting for a retry are left out."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    set_aside = DeadLetter.objects.waiting().filter(transaction_id=OuterRef("pk"))
    return list(
        Transaction.objects.unprofiled()
        .filter(received_at__lt=cutoff)
        .exclude(Exists(set_aside))
        .order_by("received_at")
        .values_list("id", flat=True)[:limit]
    )


def dead_letters_waiting_count() -> int:
    return DeadLetter.objects.waiting().count()


def transactions_visible_to(*, partner: PartnerBank | None, user=None) -> QuerySet[Transaction]:
    """A partner sees its own transactions; staff with the view permission see every
    partner's. Each with its decision, live hits and partner feedback, as the API shows them."""
    queryset = Transaction.objects.select_related("partner", "decision").prefetch_related(
        live_hits_prefetch("decision__"), partner_feedback_prefetch()
    )
    if partner is not None:
        return queryset.filter(partner=partner)
    if user is not None and user.has_perm("transactions.view_transaction"):
        return queryset
    return queryset.none()


def active_partner_ids() -> list[int]:
    """The partners whose traffic is scored (inactive ones send nothing new)."""
    return list(PartnerBank.objects.filter(is_active=True).values_list("pk", flat=True))
