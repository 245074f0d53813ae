"""Alerts opened and updated from live rule hits.

Suppression semantics (``alerts_from_hits``), per rule and subject (partner, customer-side
account), hits taken in event-time order:

0. The rule is snoozed for the subject (``Snooze``): the hit is linked to the snooze, no alert.
1. An open alert (new or acknowledged) exists: the hit updates it, whatever the time since its
   last hit. Nobody has dealt with it yet, and the database allows one open alert per rule and
   subject, so a second one would only split the evidence.
2. Otherwise, a closed alert (dismissed or in a case) whose ``last_seen_at`` is within the rule
   version's ``suppression_seconds`` of the hit (either direction): the hit is attached to it as
   a *suppressed* occurrence (linked and counted, status unchanged): a pattern just dismissed, or
   already under investigation, does not raise again within the window.
3. Otherwise a new alert opens.

A hit about a pattern across accounts (the pipeline hands them in as ``rings``: a network rule's
hit on a transfer through which the scoring path's searches found a cycle, a carried amount or
a layering chain) also makes its alert carry that pattern as a ring (``rings.py``), around the
alert's subject: its members named, its other transfers linked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import Q
from django.utils import timezone

from rules.choices import Severity
from rules.engine import Evaluation, RunningRule
from rules.models import RuleHit
from sentinel.db import execute_with_records
from sentinel.notifications import on_call_notify
from transactions.choices import RiskRating
from transactions.models import Account, Transaction

from .. import live
from ..choices import OPEN_STATUSES, AlertEventType
from ..models import (
    Alert,
    AlertEvent,
    AlertTransaction,
    Snooze,
    SnoozedHit,
)
from .rings import Ring, alert_ring_attach

Subject = tuple[int, int, str]  # (rule id, partner id, customer-side account id)


@dataclass
class AlertChanges:
    """What ``alerts_from_hits`` did, for the caller to broadcast after the commit."""

    created: list[Alert] = field(default_factory=list)
    updated: list[Alert] = field(default_factory=list)
    # Every alert touched, with its severity before the call: what on-call paging reads.
    touched: list[_Touched] = field(default_factory=list, repr=False)

    @property
    def alerts(self) -> list[Alert]:
        return [*self.created, *self.updated]


@dataclass(frozen=True)
class _Hit:
    rule: RunningRule
    transaction: Transaction
    hit_id: int


@dataclass
class _Touched:
    """An alert changed by this call, with the hits it took and its severity before them."""

    alert: Alert
    severity_before: str
    risk_rating: str
    customer_id: str
    hits: list[_Hit] = field(default_factory=list)


def alerts_from_hits(
    *, evaluations: Sequence[Evaluation], rings: Mapping[tuple, Ring] | None = None
) -> AlertChanges:
    """Open or update alerts for the live hits of stored decisions (shadow hits never alert);
    ``rings``: by (transaction id, rule id), the pattern a hit is about, for its alert to
    carry.

    Runs inside the caller's transaction. Idempotent: a hit already linked to an alert is
    skipped. Concurrency: open and window alerts are locked (in id order) before they change,
    and a rival worker opening the same alert first is caught by the one-open constraint,
    after which the hits update the rival's alert.
    """
    by_subject = _snoozed(_new_live_hits(evaluations))
    if not by_subject:
        return AlertChanges()
    changes = AlertChanges()
    with db_transaction.atomic():
        open_alerts = _open_alerts_locked(by_subject)
        closed = _closed_alerts_locked([s for s in by_subject if s not in open_alerts], by_subject)
        ratings = _subject_ratings(by_subject)
        touched: list[_Touched] = []
        for subject in sorted(by_subject):  # one insert order everywhere: no deadlock
            touched += _subject_apply(
                subject,
                by_subject[subject],
                open_alert=open_alerts.get(subject),
                closed=closed.get(subject, []),
                rating=ratings.get(subject[1:], (RiskRating.LOW, "")),
            )
        _store(touched, changes)
        if rings:
            _rings_attach(touched, rings)
        changes.touched = touched
        live.alerts_announce(created=changes.created, updated=changes.updated)
    return changes


def _new_live_hits(evaluations: Sequence[Evaluation]) -> dict[Subject, list[_Hit]]:
    """Live hits whose RuleHit is stored and not yet linked to an alert, by subject."""
    live = [(e.transaction, rule) for e in evaluations for rule, _ in e.live_hits]
    if not live:
        return {}
    stored = {
        (tx_id, rule_id): hit_id
        for tx_id, rule_id, hit_id in RuleHit.objects.filter(
            decision_id__in={tx.id for tx, _ in live},
            shadow=False,
            alert_link__isnull=True,
            snoozed_link__isnull=True,
        ).values_list("decision_id", "rule_id", "id")
    }
    by_subject: dict[Subject, list[_Hit]] = {}
    for tx, rule in live:
        hit_id = stored.get((tx.id, rule.rule_id))
        if hit_id is not None:
            subject = (rule.rule_id, tx.partner_id, tx.account_external_id)
            by_subject.setdefault(subject, []).append(_Hit(rule, tx, hit_id))
    for hits in by_subject.values():
        hits.sort(key=lambda hit: (hit.transaction.occurred_at, str(hit.transaction.id)))
    return by_subject


def _snoozed(by_subject: dict[Subject, list[_Hit]]) -> dict[Subject, list[_Hit]]:
    """Record the hits on a snoozed rule and subject against the snooze, and drop them."""
    if not by_subject:
        return by_subject
    snoozes = {
        _subject_of(snooze): snooze
        for snooze in Snooze.objects.active().filter(_subjects_cover(by_subject)).order_by("pk")
        if _subject_of(snooze) in by_subject
    }
    if not snoozes:
        return by_subject
    SnoozedHit.objects.bulk_create(
        SnoozedHit(snooze=snooze, transaction_id=hit.transaction.id, hit_id=hit.hit_id)
        for subject, snooze in snoozes.items()
        for hit in by_subject[subject]
    )
    return {subject: hits for subject, hits in by_subject.items() if subject not in snoozes}


# One page per scoring commit, however many alerts it made critical: a burst (a new rule, an
# attack on many accounts) would otherwise send on-call hundreds of emails, and queue as many
# tasks. The email lists the first ones; the alert queue has them all.
PAGE_LISTS_AT_MOST = 50


def alerts_page_on_call(*, changes: AlertChanges) -> None:
    """Email on-call once, after the commit, about the alerts that have just become critical
    (opened or raised): the pipeline's *notify* stage."""
    new = {alert.pk for alert in changes.created}
    paged = [
        entry
        for entry in changes.touched
        if entry.alert.severity == Severity.CRITICAL
        and entry.alert.is_open
        and (entry.alert.pk in new or entry.severity_before != Severity.CRITICAL)
    ]
    if not paged:
        return
    paragraphs = [_page_paragraph(entry) for entry in paged[:PAGE_LISTS_AT_MOST]]
    if len(paged) > PAGE_LISTS_AT_MOST:
        paragraphs.append(
            f"...and {len(paged) - PAGE_LISTS_AT_MOST} more: see the critical alerts on the "
            "alert queue."
        )
    first = paged[0]
    if len(paged) == 1:
        subject = (
            f"Critical alert #{first.alert.pk}: {first.hits[-1].rule.code} on "
            f"{first.alert.account_external_id}"
        )
    else:
        subject = f"{len(paged)} critical alerts: #{first.alert.pk} and {len(paged) - 1} more"
    on_call_notify(subject=subject, body="\n\n".join(paragraphs))


def _page_paragraph(entry: _Touched) -> str:
    alert, latest = entry.alert, entry.hits[-1]
    return (
        f"Alert #{alert.pk}: rule {latest.rule.code} hit account {alert.account_external_id} "
        f"(customer {alert.customer_external_id or 'unknown'}) "
        f"{alert.occurrences} time(s); {alert.amount_involved:,.2f} {alert.currency} "
        f"involved; priority {alert.priority}.\n"
        f"Latest: {latest.transaction.external_id}."
    )


def _subjects_cover(subjects: Iterable[Subject]) -> Q:
    """Rows of these subjects and maybe a few more (callers keep only theirs): three IN
    lists compile and plan far faster than one OR branch per subject, hundreds a batch."""
    rules, partners, accounts = zip(*subjects, strict=True)
    return Q(
        rule_id__in=set(rules), partner_id__in=set(partners), account_external_id__in=set(accounts)
    )


def _open_alerts_locked(by_subject: dict[Subject, list[_Hit]]) -> dict[Subject, Alert]:
    """The subjects' open alerts, locked (with any other open alert the cover catches: a
    lock held a moment longer, in the same id order, so never a deadlock)."""
    alerts = Alert.objects.open().filter(_subjects_cover(by_subject)).select_for_update()
    found = {_subject_of(alert): alert for alert in alerts.order_by("pk")}
    return {subject: alert for subject, alert in found.items() if subject in by_subject}


def _closed_alerts_locked(
    subjects: list[Subject], by_subject: dict[Subject, list[_Hit]]
) -> dict[Subject, list[Alert]]:
    """Closed alerts whose window may hold one of the hits, most recent first."""
    if not subjects:
        return {}
    hits = [hit for subject in subjects for hit in by_subject[subject]]
    reach = timedelta(seconds=max(hit.rule.suppression_seconds for hit in hits))
    alerts = (
        Alert.objects.exclude(status__in=OPEN_STATUSES)
        .filter(
            _subjects_cover(subjects),
            last_seen_at__gte=min(hit.transaction.occurred_at for hit in hits) - reach,
            last_seen_at__lte=max(hit.transaction.occurred_at for hit in hits) + reach,
        )
        .select_for_update()
        .order_by("pk")
    )
    wanted = set(subjects)
    closed: dict[Subject, list[Alert]] = {}
    for alert in alerts:
        if _subject_of(alert) in wanted:
            closed.setdefault(_subject_of(alert), []).append(alert)
    for candidates in closed.values():
        candidates.sort(key=lambda alert: alert.last_seen_at, reverse=True)
    return closed


def _subject_ratings(by_subject: dict[Subject, list[_Hit]]) -> dict[tuple[int, str], tuple]:
    """(partner id, account id) -> (risk rating, customer id) of the known accounts."""
    rows = Account.objects.filter(
        partner_id__in={p for _, p, _ in by_subject},
        external_id__in={a for _, _, a in by_subject},
    ).values_list("partner_id", "external_id", "profile__risk_rating", "customer__external_id")
    return {(p, a): (rating or RiskRating.LOW, customer or "") for p, a, rating, customer in rows}


def _subject_of(row: Alert | Snooze) -> Subject:
    return (row.rule_id, row.partner_id, row.account_external_id)


def _subject_apply(
    subject: Subject,
    hits: list[_Hit],
    *,
    open_alert: Alert | None,
    closed: list[Alert],
    rating: tuple[str, str],
) -> list[_Touched]:
    """Route each hit to the open alert, a closed alert's window, or a new alert (in memory)."""
    touched: dict[int, _Touched] = {}
    for hit in hits:
        alert = open_alert or _within_window(closed, hit)
        if alert is None:
            alert = open_alert = _alert_new(subject, hit)
        entry = touched.setdefault(id(alert), _Touched(alert, alert.severity, *rating))
        entry.hits.append(hit)
        _alert_add_hit(alert, hit, risk_rating=entry.risk_rating, customer_id=entry.customer_id)
    return list(touched.values())


def _within_window(closed: list[Alert], hit: _Hit) -> Alert | None:
    window = timedelta(seconds=hit.rule.suppression_seconds)
    occurred_at = hit.transaction.occurred_at
    return next((a for a in closed if abs(a.last_seen_at - occurred_at) <= window), None)


def _alert_new(subject: Subject, hit: _Hit) -> Alert:
    tx = hit.transaction
    return Alert(
        rule_id=subject[0],
        rule_version_id=hit.rule.version_id,
        partner_id=subject[1],
        account_external_id=subject[2],
        severity=hit.rule.severity,
        occurrences=0,  # the first hit makes it 1
        first_seen_at=tx.occurred_at,
        last_seen_at=tx.occurred_at,
        currency=tx.currency,
    )


def _alert_add_hit(alert: Alert, hit: _Hit, *, risk_rating: str, customer_id: str) -> None:
    tx = hit.transaction
    alert.occurrences += 1
    alert.first_seen_at = min(alert.first_seen_at, tx.occurred_at)
    if tx.occurred_at >= alert.last_seen_at:
        alert.last_seen_at = tx.occurred_at
        alert.rule_version_id = hit.rule.version_id
    if tx.currency == alert.currency:
        alert.amount_involved += tx.amount
    if not alert.customer_external_id:
        side = tx.customer_side
        alert.customer_external_id = getattr(tx, f"{side}_customer_id") or customer_id
    alert.reassess(
        rule_severity=hit.rule.severity, rule_score=hit.rule.score, risk_rating=risk_rating
    )


def _store(touched: list[_Touched], changes: AlertChanges) -> None:
    """Insert new alerts (each in a savepoint), update the others, then links and events."""
    now = timezone.now()
    updated: list[Alert] = []
    for entry in touched:
        if entry.alert.pk is None and _alert_insert(entry):
            changes.created.append(entry.alert)
            continue
        entry.alert.updated_at = now
        updated.append(entry.alert)
    changes.updated += updated
    if updated:
        execute_with_records(
            _ALERT_UPDATE,
            [{name: getattr(alert, name) for name in _UPDATED_COLUMNS} for alert in updated],
        )
    AlertTransaction.objects.bulk_create(
        AlertTransaction(
            alert=entry.alert,
            transaction_id=hit.transaction.id,
            hit_id=hit.hit_id,
            suppressed=not entry.alert.is_open,
        )
        for entry in touched
        for hit in entry.hits
    )
    created = {id(alert) for alert in changes.created}
    AlertEvent.objects.bulk_create(
        event for entry in touched for event in _events(entry, created=id(entry.alert) in created)
    )


# One UPDATE ... FROM json_to_recordset: the ORM's bulk_update builds a CASE per row and
# field, which cost more than everything else the alerts of a batch need.
_UPDATED_COLUMNS = (
    "id",
    "rule_version_id",
    "customer_external_id",
    "severity",
    "occurrences",
    "first_seen_at",
    "last_seen_at",
    "amount_involved",
    "priority",
    "updated_at",
)
_ALERT_UPDATE = """
UPDATE alerts_alert AS a SET
    rule_version_id = r.rule_version_id, customer_external_id = r.customer_external_id,
    severity = r.severity, occurrences = r.occurrences, first_seen_at = r.first_seen_at,
    last_seen_at = r.last_seen_at, amount_involved = r.amount_involved, priority = r.priority,
    updated_at = r.updated_at
FROM json_to_recordset(%s::json) AS r(
    id bigint, rule_version_id bigint, customer_external_id varchar(64), severity varchar(10),
    occurrences integer, first_seen_at timestamptz, last_seen_at timestamptz,
    amount_involved numeric(19, 4), priority integer, updated_at timestamptz)
WHERE a.id = r.id
"""


def _rings_attach(touched: list[_Touched], rings: Mapping[tuple, Ring]) -> None:
    """Each hit about a ring makes its (stored) alert carry it; the amount and priority of the
    alerts that gained transfers are updated."""
    found = [
        (entry, hit, rings[(hit.transaction.id, hit.rule.rule_id)])
        for entry in touched
        for hit in entry.hits
        if (hit.transaction.id, hit.rule.rule_id) in rings
    ]
    grown: dict[int, Alert] = {}
    for entry, hit, ring in found:
        alert = entry.alert
        ring = Ring(alert.account_external_id, ring.members, ring.transaction_ids)  # its subject
        if alert_ring_attach(alert=alert, ring=ring):
            alert.reassess(
                rule_severity=hit.rule.severity,
                rule_score=hit.rule.score,
                risk_rating=entry.risk_rating,
            )
            grown[alert.pk] = alert
    for alert in grown.values():
        Alert.objects.filter(pk=alert.pk).update(
            amount_involved=alert.amount_involved, priority=alert.priority
        )


def _alert_insert(entry: _Touched) -> bool:
    """Insert the new alert; False if a concurrent worker opened one for the subject first,
    in which case ``entry`` now holds that alert, locked, with our hits added."""
    try:
        with db_transaction.atomic():
            entry.alert.save(force_insert=True)
        return True
    except IntegrityError:
        rival = (
            Alert.objects.open()
            .filter(_subjects_cover([_subject_of(entry.alert)]))  # exact for one subject
            .select_for_update()
            .first()
        )
        if rival is None:
            raise
    entry.alert, entry.severity_before = rival, rival.severity
    for hit in entry.hits:
        _alert_add_hit(rival, hit, risk_rating=entry.risk_rating, customer_id=entry.customer_id)
    return False


def _events(entry: _Touched, *, created: bool) -> list[AlertEvent]:
    alert = entry.alert
    parameters = {
        "transaction_ids": [str(hit.transaction.id) for hit in entry.hits],
        "occurrences": alert.occurrences,
    }
    if not alert.is_open:
        parameters["suppressed"] = True
    kind = AlertEventType.CREATED if created else AlertEventType.UPDATED
    events = [AlertEvent(alert=alert, type=kind, parameters=parameters)]
    if alert.severity != entry.severity_before:
        events.append(
            AlertEvent(
                alert=alert,
                type=AlertEventType.SEVERITY_RAISED,
                parameters={
                    "from": entry.severity_before,
                    "to": alert.severity,
                    "occurrences": alert.occurrences,
                },
            )
        )
    return events
