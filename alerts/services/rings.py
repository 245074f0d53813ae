"""A ring on an alert: the member accounts and the transfers forming it, as rows.

A network detection (the pipeline's window scan) finds money moving across several accounts
and raises one alert on the ring's hub (``alerts_from_findings``). The alert then names every
member (``AlertMember``) and links every transfer (``AlertTransaction`` without a rule hit), so
the alert and its case list them, each member's account page finds the ring, and the
money-flow view draws it. The alerts app knows no graph: the caller hands the ring in as plain
data, and the roles are read from the transfers themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db import transaction as db_transaction

from transactions.choices import RiskRating
from transactions.models import Account, Transaction

from .. import live
from ..choices import AlertEventType, AlertStatus, MemberRole
from ..models import Alert, AlertEvent, AlertMember, AlertTransaction


@dataclass(frozen=True)
class Ring:
    """Accounts and transfers that form one pattern, around ``hub`` (the alert's subject)."""

    hub: str
    members: tuple[str, ...]
    transaction_ids: tuple[UUID, ...]


def ring_transactions(rings: Sequence[Ring]) -> dict[UUID, Transaction]:
    """The rings' transfers, by id, in one query (what roles, amounts and times are read from)."""
    ids = {tx_id for ring in rings for tx_id in ring.transaction_ids}
    if not ids:
        return {}
    fields = (
        "id",
        "partner_id",
        "occurred_at",
        "amount",
        "currency",
        "originator_account_id",
        "beneficiary_account_id",
    )
    return Transaction.objects.only(*fields).in_bulk(ids)


def ring_transfers_of(ring: Ring, transfers: dict, *, partner_id: int) -> list[Transaction]:
    """The ring's transfers among ``transfers`` (``ring_transactions``) that are the partner's."""
    found = (transfers.get(tx_id) for tx_id in ring.transaction_ids)
    return [tx for tx in found if tx is not None and tx.partner_id == partner_id]


def ring_span(transactions: Sequence[Transaction]) -> tuple[datetime, datetime] | None:
    """The ring's first and last transfer: when the pattern was seen."""
    if not transactions:
        return None
    times = [tx.occurred_at for tx in transactions]
    return min(times), max(times)


def ring_currency(transactions: Sequence[Transaction]) -> str | None:
    """The first transfer's currency: the alert's (as for an alert of rule hits)."""
    if not transactions:
        return None
    return min(transactions, key=lambda tx: (tx.occurred_at, str(tx.pk))).currency


def member_roles(ring: Ring, transactions: Sequence[Transaction]) -> dict[str, str]:
    """Each member's role, read from who paid whom among the ring's transfers."""
    sends = {tx.originator_account_id for tx in transactions}
    receives = {tx.beneficiary_account_id for tx in transactions}
    roles = {}
    for account in dict.fromkeys((ring.hub, *ring.members)):
        if account == ring.hub:
            roles[account] = MemberRole.HUB
        elif account in sends and account not in receives:
            roles[account] = MemberRole.SENDER
        elif account in receives and account not in sends:
            roles[account] = MemberRole.RECEIVER
        else:
            roles[account] = MemberRole.INTERMEDIARY
    return roles


def alert_ring_attach(
    *, alert: Alert, ring: Ring, transactions: Sequence[Transaction], created: bool
) -> int:
    """Name the ring's members on the alert and link its transfers (those not linked yet),
    adding their amounts in the alert's currency; the number of transfers newly linked.

    A member already named by an earlier ring of the alert keeps the hub role, or its role if
    the same; an account that paid in one ring and received in another passes money through:
    an intermediary. Runs in the caller's transaction, with the alert locked (or just made)."""
    roles = member_roles(ring, transactions)
    known = {} if created else dict(alert.members.values_list("account_external_id", "role"))
    AlertMember.objects.bulk_create(
        AlertMember(alert=alert, account_external_id=account, role=role)
        for account, role in roles.items()
        if account not in known
    )
    for account, role in roles.items():
        merged = _merged_role(known.get(account), role)
        if account in known and merged != known[account]:
            alert.members.filter(account_external_id=account).update(role=merged)
    linked = (
        set()
        if created
        else set(
            alert.links.filter(transaction_id__in=[tx.pk for tx in transactions]).values_list(
                "transaction_id", flat=True
            )
        )
    )
    fresh = [tx for tx in transactions if tx.pk not in linked]
    AlertTransaction.objects.bulk_create(
        AlertTransaction(alert=alert, transaction_id=tx.pk) for tx in fresh
    )
    alert.amount_involved += sum(
        (tx.amount for tx in fresh if tx.currency == alert.currency), start=Decimal(0)
    )
    return len(fresh)


def _merged_role(before: str | None, now: str) -> str:
    if before is None or before == now:
        return now
    if MemberRole.HUB in (before, now):
        return MemberRole.HUB
    return MemberRole.INTERMEDIARY


def alert_ring_grow(
    *,
    alert_id: int,
    ring: Ring,
    summary: str,
    details: dict,
    still_worked: bool = False,
) -> tuple[Alert, bool] | None:
    """A later scan found more of the ring ``alert_id`` was raised on: name its new members
    (an account that now both pays and receives becomes an intermediary), link its new
    transfers without a hit, add them to the amount in the alert's currency, move its last
    seen time and record a ``ring_grew`` event; announced after the commit like any update.

    Only while the alert is being dealt with: open, or (``still_worked``, the caller knows its
    case is active) taken into a case. None when it is closed (the caller raises the new
    activity anew); else the alert and whether it changed (the same ring again: not)."""
    with db_transaction.atomic():
        alert = Alert.objects.select_related("rule_version").select_for_update().get(pk=alert_id)
        if not (alert.is_open or (still_worked and alert.status == AlertStatus.IN_CASE)):
            return None
        transfers = ring_transfers_of(ring, ring_transactions([ring]), partner_id=alert.partner_id)
        before = _named(alert)
        linked = alert_ring_attach(alert=alert, ring=ring, transactions=transfers, created=False)
        joined = sorted(_named(alert) - before)
        if not linked and not joined:
            return alert, False
        span = ring_span(transfers)
        if span is not None:
            alert.first_seen_at = min(alert.first_seen_at, span[0])
            alert.last_seen_at = max(alert.last_seen_at, span[1])
        version = alert.rule_version
        rating = (
            Account.objects.filter(
                partner_id=alert.partner_id, external_id=alert.account_external_id
            )
            .values_list("profile__risk_rating", flat=True)
            .first()
        )
        alert.reassess(
            rule_severity=version.severity,
            rule_score=version.score,
            risk_rating=rating or RiskRating.LOW,
        )
        alert.save()
        AlertEvent.objects.create(
            alert=alert,
            type=AlertEventType.RING_GREW,
            parameters={
                "finding": summary,
                "details": details,
                "members_added": joined,
                "transactions_added": linked,
            },
        )
        live.alerts_announce(updated=[alert])
    return alert, True


def _named(alert: Alert) -> set[str]:
    return set(alert.members.values_list("account_external_id", flat=True))
