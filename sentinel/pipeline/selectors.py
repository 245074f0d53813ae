"""Reads of the pipeline: what waits to be processed, what was set aside, and the accounts
known to be bad (proximity's seeds, read across rules, cases and transactions)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from alerts.models import Alert
from cases.choices import CaseStatus, Disposition
from rules.choices import ListKind
from rules.models import ListEntry
from rules.selectors import live_hits_prefetch
from sentinel.network.choices import SeedReason
from sentinel.network.proximity import Seed
from sentinel.network.services import MONEY_MOVES
from transactions.choices import LabelOutcome, LabelSource
from transactions.models import PartnerBank, Transaction, TransactionLabel
from transactions.selectors import partner_feedback_prefetch

from .models import DeadLetter


def transactions_to_sweep(*, older_than_seconds: int, limit: int) -> list:
    """Ids of accepted transactions the queue lost (or has not reached yet), oldest first;
    dead letters waiting for a retry are left out."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    set_aside = DeadLetter.objects.waiting().filter(transaction_id=OuterRef("pk"))
    query = (
        Transaction.objects.unprofiled()
        .filter(received_at__lt=cutoff)
        .exclude(Exists(set_aside))
        .order_by("received_at")
        .values_list("id", flat=True)[:limit]
    )
    # Read through the partial index (tx_unprofiled) by a plain index scan: it marks the
    # entries of the rows profiled since the last sweep as dead, so the next sweep skips them.
    # The planner, believing few rows unprofiled, prefers a bitmap scan, which marks nothing
    # and visits every row profiled since the last vacuum, every time (160 ms a sweep with
    # 671,528 such entries, after a few AMLSim replays; under 1 ms this way once marked).
    with db_transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_bitmapscan')")
        (before,) = cursor.fetchone()
        cursor.execute("SELECT set_config('enable_bitmapscan', 'off', true)")
        ids = list(query)
        cursor.execute("SELECT set_config('enable_bitmapscan', %s, true)", [before])
    return ids


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


def flagged_accounts(*, partner_id: int) -> list[Seed]:
    """The partner's known-bad accounts (proximity's seeds), each with why:
    - on an account list named in ``SENTINEL_NETWORK_FLAGGED_LISTS`` (lists are every
      partner's; an allow-list of accounts must not be named there);
    - an alert's account in a case closed with a filed SAR;
    - the beneficiary of a transfer the partner confirmed as fraud (its current feedback):
      where the money went, the customer who sent it being as likely the victim."""
    listed = ListEntry.objects.filter(
        rule_list__kind=ListKind.ACCOUNT,
        rule_list__name__in=settings.SENTINEL_NETWORK_FLAGGED_LISTS,
    ).values_list("normalized", "rule_list__name", "note")
    reported = (
        Alert.objects.filter(
            case_link__case__partner_id=partner_id,
            case_link__case__status=CaseStatus.CLOSED,
            case_link__case__disposition=Disposition.SAR_FILED,
            case_link__case__sar__isnull=False,
        )
        .values_list("account_external_id", "case_link__case_id")
        .distinct()
    )
    confirmed = (
        TransactionLabel.objects.filter(
            source=LabelSource.PARTNER_FEEDBACK,
            outcome=LabelOutcome.CONFIRMED_FRAUD,
            transaction__partner_id=partner_id,
            transaction__type__in=MONEY_MOVES,
        )
        .exclude(transaction__beneficiary_account_id="")
        .values_list("transaction__beneficiary_account_id", "transaction__external_id")
    )
    return [
        *(
            Seed(account, SeedReason.LIST, f'list "{name}"' + (f": {note}" if note else ""))
            for account, name, note in listed
        ),
        *(Seed(account, SeedReason.SAR, f"case #{case_id}") for account, case_id in reported),
        *(
            Seed(account, SeedReason.FEEDBACK, f"transaction {external_id}")
            for account, external_id in confirmed
        ),
    ]
