"""Alerts raised by a finding about a party rather than by a transaction's rule hit.

Continuous name screening is the case in point: a list gains an entry, and a customer the bank
has served for years turns out to be on it. No transaction hit a rule, yet the customer must be
looked at. The finding opens an alert under the rule that would have hit (so its severity,
score and owner are the rule's), for each subject (partner, customer-side account), with the
finding's explanation kept in the alert's first event. A finding about a ring (the network
window scan's) also names the ring's members and links its transfers (``rings``): the alert's
amount is then the ring's total in its currency, and its first and last seen times the ring's
first and last transfer.

Semantics, per rule and subject: a snoozed subject takes no alert; an open alert takes the
finding as one more occurrence (raising its severity at 5 and 20, as rule hits do); otherwise a
new alert opens. Rules that are not live raise
nothing (a shadow rule's hits never alert either).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from rules.choices import Severity
from rules.models import Rule
from rules.selectors import live_rules
from sentinel.notifications import on_call_notify
from transactions.choices import RiskRating
from transactions.models import Account, PartnerBank

from .. import live
from ..choices import AlertEventType
from ..models import Alert, AlertEvent, Snooze
from .hits import AlertChanges
from .rings import (
    Ring,
    alert_ring_attach,
    ring_currency,
    ring_span,
    ring_transactions,
    ring_transfers_of,
)


@dataclass(frozen=True)
class Finding:
    """Something found about one subject: what rule it falls under, and why."""

    rule_code: str
    partner_id: int
    account_external_id: str
    customer_external_id: str
    summary: str  # one line: "Customer C-1 matches EU sanctions entry 123 (score 94.0)"
    details: dict = field(default_factory=dict, compare=False)  # kept in the alert's event
    ring: Ring | None = field(default=None, compare=False)  # the pattern's members and transfers


def alerts_from_findings(*, findings: Sequence[Finding]) -> AlertChanges:
    """Open or update an alert per finding's rule and subject; runs in the caller's
    transaction and announces the alerts after its commit."""
    rules = {
        rule.code: rule
        for rule in live_rules(codes={finding.rule_code for finding in findings}).select_related(
            "version"
        )
    }
    wanted = [finding for finding in findings if finding.rule_code in rules]
    changes = AlertChanges()
    if not wanted:
        return changes
    now = timezone.now()
    with db_transaction.atomic():
        snoozed = _snoozed_subjects(wanted, rules, now)
        ratings = _ratings(wanted)
        currencies = dict(
            PartnerBank.objects.filter(pk__in={f.partner_id for f in wanted}).values_list(
                "pk", "reporting_currency"
            )
        )
        transfers = ring_transactions([f.ring for f in wanted if f.ring is not None])
        opened: dict[int, Alert] = {}
        updated: dict[int, Alert] = {}
        for finding in sorted(wanted, key=_subject_order):  # one lock order: no deadlock
            rule = rules[finding.rule_code]
            subject = (rule.pk, finding.partner_id, finding.account_external_id)
            if subject in snoozed:
                continue
            ring = (
                ring_transfers_of(finding.ring, transfers, partner_id=finding.partner_id)
                if finding.ring is not None
                else []
            )
            alert, inserted = _alert_for(
                finding,
                rule,
                ring_currency(ring) or currencies[finding.partner_id],
                ring_span(ring) or (now, now),
            )
            created = inserted or alert.pk in opened  # a second finding on an alert opened now
            if finding.ring is not None:
                alert_ring_attach(alert=alert, ring=finding.ring)
            alert.reassess(
                rule_severity=rule.version.severity,
                rule_score=rule.version.score,
                risk_rating=ratings.get(subject[1:], RiskRating.LOW),
            )
            alert.save()
            AlertEvent.objects.create(
                alert=alert,
                type=AlertEventType.UPDATED if alert.occurrences > 1 else AlertEventType.CREATED,
                parameters={
                    "finding": finding.summary,
                    "details": finding.details,
                    "occurrences": alert.occurrences,
                },
            )
            if created:
                opened[alert.pk] = alert
            else:
                updated[alert.pk] = alert
        changes.created, changes.updated = list(opened.values()), list(updated.values())
        live.alerts_announce(created=changes.created, updated=changes.updated)
        critical = [alert for alert in changes.created if alert.severity == Severity.CRITICAL]
        if critical:
            _page(critical, wanted)  # emailed once the transaction commits
    return changes


def _subject_order(finding: Finding) -> tuple:
    return (finding.rule_code, finding.partner_id, finding.account_external_id)


def _alert_for(finding: Finding, rule: Rule, currency: str, seen: tuple) -> tuple[Alert, bool]:
    """The subject's open alert, locked, with one more occurrence; or a new one, inserted (a
    rival opening it first is caught by the one-open constraint and updated instead)."""
    subject = {
        "rule": rule,
        "partner_id": finding.partner_id,
        "account_external_id": finding.account_external_id,
    }
    existing = Alert.objects.open().filter(**subject).select_for_update().first()
    if existing is None:
        alert = Alert(
            **subject,
            rule_version=rule.version,
            customer_external_id=finding.customer_external_id,
            severity=rule.version.severity,
            occurrences=1,
            first_seen_at=seen[0],
            last_seen_at=seen[1],
            currency=currency,
            amount_involved=Decimal(0),
        )
        try:
            with db_transaction.atomic():
                alert.save(force_insert=True)
            return alert, True
        except IntegrityError:
            existing = Alert.objects.open().filter(**subject).select_for_update().first()
            if existing is None:
                raise
    existing.occurrences += 1
    existing.first_seen_at = min(existing.first_seen_at, seen[0])
    existing.last_seen_at = max(existing.last_seen_at, seen[1])
    existing.customer_external_id = existing.customer_external_id or finding.customer_external_id
    return existing, False


def _snoozed_subjects(findings: Sequence[Finding], rules: dict, now) -> set[tuple]:
    snoozes = Snooze.objects.active(now).filter(
        rule__in=[rules[f.rule_code] for f in findings],
        partner_id__in={f.partner_id for f in findings},
        account_external_id__in={f.account_external_id for f in findings},
    )
    return set(snoozes.values_list("rule_id", "partner_id", "account_external_id"))


def _ratings(findings: Sequence[Finding]) -> dict[tuple[int, str], str]:
    rows = Account.objects.filter(
        partner_id__in={f.partner_id for f in findings},
        external_id__in={f.account_external_id for f in findings},
    ).values_list("partner_id", "external_id", "profile__risk_rating")
    return {(partner, account): rating or RiskRating.LOW for partner, account, rating in rows}


def _page(alerts: list[Alert], findings: Sequence[Finding]) -> None:
    """On-call hears of a critical finding at once, as of a critical rule hit."""
    summaries = {(f.partner_id, f.account_external_id): f.summary for f in findings}
    paragraphs = [
        f"Alert #{alert.pk} on account {alert.account_external_id}: "
        f"{summaries.get((alert.partner_id, alert.account_external_id), '')}"
        for alert in alerts
    ]
    subject = (
        f"Critical alert #{alerts[0].pk}: a known party found on a list"
        if len(alerts) == 1
        else f"{len(alerts)} critical alerts: known parties found on a list"
    )
    on_call_notify(subject=subject, body="\n\n".join(paragraphs))
