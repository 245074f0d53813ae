"""Alerts into cases: each alert joins its subject's active case, or opens one; the alerts
of one ring, whoever's accounts they are on, join one case.

The subject is the alert's customer (partner + customer id), or its account when the alert
names no customer. The pipeline's *cases* stage calls ``cases_from_alerts`` inside the scoring
transaction, right after the *alerts* stage, so an alert and its case exist together or not at
all. Alerts change only through alerts services (``alerts_move_into_case``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import Q
from django.utils import timezone

from alerts.choices import OPEN_STATUSES
from alerts.models import Alert
from alerts.services import alerts_move_into_case
from rules.choices import SEVERITY_RANK, Severity
from sentinel.db import execute_with_records

from .. import events, live
from ..choices import CaseStatus
from ..models import Case, CaseAlert, CaseEvent, CaseSubject, sla_due_at
from ..permissions import Action, require
from .rings import RingRoutes, linked_subject_cases, ring_routes

MAX_ALERTS_AT_ONCE = 500

Subject = tuple[int, str, str]  # (partner id, customer id or "", account id or "")


def _subject(alert: Alert) -> Subject:
    if alert.customer_external_id:
        return (alert.partner_id, alert.customer_external_id, "")
    return (alert.partner_id, "", alert.account_external_id)


def _case_subject(case: Case) -> Subject:
    if case.customer_external_id:
        return (case.partner_id, case.customer_external_id, "")
    return (case.partner_id, "", case.account_external_id)


def cases_from_alerts(*, alerts: Sequence[Alert]) -> list[Case]:
    """Attach open, unlinked alerts to their subject's active case (opening one if needed)
    and refresh severity, priority and due date of every active case whose alerts changed.

    One case per ring (``rings.py``): an alert about a ring already in an active case joins
    that case, and the alerts of one ring arriving together join one case; an alert whose
    subject is not the case's links its subject to the case (``CaseSubject``), and that
    subject's later alerts go there too while it has no active case of its own.

    Alerts of a case under investigation become ``in_case`` at once; those of a case nobody
    has started stay new (still open to triage on the alert queue) until it is claimed or
    started (``alerts_take_over``). Idempotent; returns the cases that changed.

    Costs a fixed number of statements per call, plus one insert per case it opens: links,
    history lines and case updates are written in bulk, since one batch of scoring can touch
    hundreds of cases."""
    if not alerts:
        return []
    with db_transaction.atomic():
        fresh = list(
            Alert.objects.select_for_update().filter(pk__in={a.pk for a in alerts}).order_by("pk")
        )
        linked = dict(CaseAlert.objects.filter(alert__in=fresh).values_list("alert_id", "case_id"))
        unlinked = [a for a in fresh if a.pk not in linked and a.status in OPEN_STATUSES]
        updated_in = {linked[alert.pk] for alert in fresh if alert.pk in linked}
        routes = ring_routes(unlinked)
        subjects = {_subject(alert) for alert in unlinked}
        via_link = linked_subject_cases(subjects)
        cases = _active_cases_locked(
            subjects, updated_in | routes.case_ids | set(via_link.values())
        )
        by_pk = {case.pk: case for case in cases.values()}
        writes = _Writes()
        for key, joining in sorted(_destinations(unlinked, routes, cases, by_pk, via_link).items()):
            if key[0] == 0:
                case, opened = by_pk[key[1]], False
            else:
                case, opened = _case_open(key[1], joining)
                by_pk[case.pk] = cases[_case_subject(case)] = case
            _attach(case, joining, opened=opened, writes=writes)
        linked_alerts: dict[int, list[Alert]] = {}
        for alert in fresh:
            if alert.pk in linked:
                linked_alerts.setdefault(linked[alert.pk], []).append(alert)
        for case in cases.values():
            if case.pk not in updated_in:
                continue
            mine = linked_alerts[case.pk]
            before = (case.severity, case.priority, case.due_at)
            _refresh(case, mine)
            taken = _take_over(case, mine, actor=None)
            if not taken and (case.severity, case.priority, case.due_at) == before:
                # A further hit on an alert already in the case that moves nothing the case
                # shows: no history line, no new version, no broadcast (not on every hit).
                continue
            writes.events.append(events.alerts_updated(case, alert_ids=[a.pk for a in mine]))
            writes.save(case, bump=case.pk not in writes.bumped)  # one version step per call
        writes.flush()
        live.cases_announce(cases=writes.changed)
    return writes.changed


@dataclass
class FromAlertsResult:
    """Which case each chosen alert is now in, and why the others are not (by alert id)."""

    cases: dict[int, int] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)


def cases_open_from_alerts(*, alert_ids: Iterable[int], actor) -> FromAlertsResult:
    """An investigator's "open a case from these" on the alert queue: each open alert not in a
    case yet joins its subject's active case, or opens one (``cases_from_alerts``). Alerts in
    a case already, closed or missing are reported, not touched."""
    require(actor, Action.CLAIM)  # whoever works cases
    ids = sorted(set(alert_ids))
    if len(ids) > MAX_ALERTS_AT_ONCE:
        raise ValidationError({"alerts": [f"Select at most {MAX_ALERTS_AT_ONCE} alerts."]})
    result = FromAlertsResult()
    with db_transaction.atomic():
        found = Alert.objects.select_related("case_link").in_bulk(ids)
        joining = []
        for pk in ids:
            alert = found.get(pk)
            if alert is None:
                result.failed[pk] = f"Alert #{pk} does not exist."
            elif hasattr(alert, "case_link"):
                result.failed[pk] = f"Alert #{pk} is already in case #{alert.case_link.case_id}."
            elif alert.status not in OPEN_STATUSES:
                result.failed[pk] = f"Alert #{pk} is {alert.status}: only open alerts join a case."
            else:
                joining.append(alert)
        cases_from_alerts(alerts=joining)
        links = CaseAlert.objects.filter(alert__in=joining).values_list("alert_id", "case_id")
        result.cases = dict(links)
        for alert in joining:  # a scorer got there first and the alert closed meanwhile
            if alert.pk not in result.cases:
                result.failed[alert.pk] = f"Alert #{alert.pk} changed meanwhile; try again."
    return result


@dataclass
class _Writes:
    """What ``cases_from_alerts`` writes, gathered so that each kind is one statement."""

    links: list[CaseAlert] = field(default_factory=list)
    subjects: list[CaseSubject] = field(default_factory=list)  # other subjects of ring alerts
    events: list[CaseEvent] = field(default_factory=list)
    saved: dict[int, Case] = field(default_factory=dict)  # cases to UPDATE, by id
    bumped: set[int] = field(default_factory=set)  # cases whose version this call raised
    changed: list[Case] = field(default_factory=list)  # in the order they changed
    changed_ids: set[int] = field(default_factory=set)

    def touch(self, case: Case) -> None:
        if case.pk not in self.changed_ids:
            self.changed_ids.add(case.pk)
            self.changed.append(case)

    def save(self, case: Case, *, bump: bool = True) -> None:
        if bump:
            case.version += 1
            self.bumped.add(case.pk)
        case.updated_at = timezone.now()
        self.saved[case.pk] = case
        self.touch(case)

    def flush(self) -> None:
        CaseAlert.objects.bulk_create(self.links)
        # A subject already linked to an active case (another ring's) stays linked there: the
        # database holds it to one (its later alerts go to one place); this ring's alert is
        # in this case all the same.
        CaseSubject.objects.bulk_create(self.subjects, ignore_conflicts=True)
        if self.saved:
            execute_with_records(
                _CASE_UPDATE,
                [
                    {name: getattr(case, name) for name in _UPDATED_COLUMNS}
                    for _, case in sorted(self.saved.items())
                ],
            )
        CaseEvent.objects.bulk_create(self.events)


# One UPDATE ... FROM json_to_recordset for every case of the call (the rows are locked).
_UPDATED_COLUMNS = ("id", "severity", "priority", "due_at", "version", "updated_at")
_CASE_UPDATE = """
UPDATE cases_case AS c SET
    severity = r.severity, priority = r.priority, due_at = r.due_at, version = r.version,
    updated_at = r.updated_at
FROM json_to_recordset(%s::json) AS r(
    id bigint, severity varchar(10), priority integer, due_at timestamptz, version integer,
    updated_at timestamptz)
WHERE c.id = r.id
"""


def _destinations(
    alerts: list[Alert], routes: RingRoutes, cases: dict, by_pk: dict, via_link: dict
) -> dict[tuple, list[Alert]]:
    """Where each joining alert goes, keyed ``(0, case id)`` (an active case) or ``(1,
    subject)`` (a case to open): its ring's active case; else the case of the alert of its
    ring that leads; else its subject's own active case, or the one its subject is linked to;
    else a new case of its subject."""
    where: dict[int, tuple] = {}
    for alert in alerts:
        if alert.pk in routes.leads:
            continue
        subject = _subject(alert)
        case = (
            by_pk.get(routes.cases.get(alert.pk))
            or cases.get(subject)
            or by_pk.get(via_link.get(subject))
        )
        where[alert.pk] = (0, case.pk) if case is not None else (1, subject)
    for pk, lead in routes.leads.items():
        where[pk] = where[lead]
    grouped: dict[tuple, list[Alert]] = {}
    for alert in alerts:
        grouped.setdefault(where[alert.pk], []).append(alert)
    return grouped


def _active_cases_locked(joining, case_ids: set[int]) -> dict:
    """The active cases of these subjects, and the active cases with these ids, locked (with
    any other active case the cover catches: a lock held a moment longer, in the same id
    order, so never a deadlock)."""
    if not joining and not case_ids:
        return {}
    cases = Case.objects.active().filter(_subjects_cover(joining) | Q(pk__in=case_ids))
    found = {_case_subject(case): case for case in cases.select_for_update().order_by("pk")}
    return {
        subject: case
        for subject, case in found.items()
        if subject in joining or case.pk in case_ids
    }


def _subjects_cover(subjects: Iterable[Subject]) -> Q:
    """Rows of these subjects and maybe a few more (the caller keeps only its own): IN lists
    plan far faster than one OR branch per subject, hundreds a batch."""
    customers = {(p, c) for p, c, _ in subjects if c}
    accounts = {(p, a) for p, c, a in subjects if not c}
    cover = Q(pk__in=[])
    if customers:
        cover |= Q(
            partner_id__in={p for p, _ in customers},
            customer_external_id__in={c for _, c in customers},
        )
    if accounts:
        cover |= Q(
            partner_id__in={p for p, _ in accounts},
            customer_external_id="",
            account_external_id__in={a for _, a in accounts},
        )
    return cover


def _case_open(subject: Subject, alerts: list[Alert]) -> tuple[Case, bool]:
    """A new case for the subject, or (when a concurrent scorer opened one first) that one."""
    partner_id, customer_id, _ = subject
    now = timezone.now()
    # Its own alerts name its account (a ring's other subjects' alerts come with them).
    first = min((a for a in alerts if _subject(a) == subject), key=lambda alert: alert.pk)
    severity = _highest(alert.severity for alert in alerts)
    case = Case(
        partner_id=partner_id,
        customer_external_id=customer_id,
        account_external_id=first.account_external_id,
        severity=severity,
        priority=max(alert.priority for alert in alerts),
        created_at=now,
        due_at=sla_due_at(severity=severity, opened_at=now),
    )
    try:
        with db_transaction.atomic():
            case.save(force_insert=True)
    except IntegrityError:
        rival = (
            Case.objects.active()
            .filter(_subjects_cover([subject]))  # exact for one subject
            .select_for_update()
            .first()
        )
        if rival is None:
            raise
        return rival, False
    return case, True


def _attach(case: Case, alerts: list[Alert], *, opened: bool, writes: _Writes) -> None:
    writes.links += [CaseAlert(case=case, alert=alert) for alert in alerts]
    others = {_subject(alert): alert for alert in alerts if _subject(alert) != _case_subject(case)}
    writes.subjects += [
        CaseSubject(
            case=case,
            partner_id=partner_id,
            customer_external_id=customer,
            account_external_id=alert.account_external_id,
            alert=alert,
        )
        for (partner_id, customer, _), alert in others.items()
    ]
    _take_over(case, alerts, actor=None)
    if not opened:  # a case just opened was inserted with its alerts' severity and priority
        _refresh(case, alerts)
        writes.save(case)
    writes.touch(case)
    ids = [alert.pk for alert in alerts]
    linked = sorted(customer or account for _, customer, account in others)
    if opened:
        writes.events.append(events.case_opened(case, alert_ids=ids, linked=linked))
    else:
        writes.events.append(events.alerts_attached(case, alert_ids=ids, linked=linked))


def _refresh(case: Case, alerts: list[Alert]) -> None:
    """Severity and priority are the highest of the alerts'; the due date only moves earlier.

    Alerts' severity never decreases, so the maximum over new and changed alerts suffices."""
    case.severity = _highest([case.severity, *(alert.severity for alert in alerts)])
    case.priority = max([case.priority, *(alert.priority for alert in alerts)])
    case.due_at = min(case.due_at, sla_due_at(severity=case.severity, opened_at=case.created_at))


def _highest(severities: Iterable[str]) -> str:
    return max(severities, key=lambda severity: SEVERITY_RANK[Severity(severity)])


def alerts_take_over(*, case: Case, actor) -> list[int]:
    """The investigation of ``case`` has started: its alerts still open become ``in_case``
    (an AlertEvent each, by ``actor``). Alerts a scorer holds right now are skipped; the
    scorer moves them itself once it sees the case under investigation. Their ids."""
    alerts = list(
        Alert.objects.filter(case_link__case=case, status__in=OPEN_STATUSES)
        .select_for_update(skip_locked=True)
        .order_by("pk")
    )
    return _take_over(case, alerts, actor=actor, started=True)


def _take_over(case: Case, alerts: list[Alert], *, actor, started: bool = False) -> list[int]:
    if case.status == CaseStatus.OPEN and not started:
        return []
    return [
        alert.pk for alert in alerts_move_into_case(alerts=alerts, case_id=case.pk, actor=actor)
    ]
