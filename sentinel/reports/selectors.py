"""The reports' reads: one function per report, each a fixed number of aggregate queries over
the period's rows, found through an index on the time that places them in the period
(alerts.created_at, cases.closed_at and due_at, decisions by partner and decided_at).
Definitions: docs/reports.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Trunc
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.models import Alert
from cases.choices import ACTIVE_STATUSES, Disposition
from cases.models import Case, Team
from rules.choices import DecisionOutcome, Severity, Typology
from rules.models import Decision, Rule, RuleVersion
from transactions.models import PartnerBank

from .periods import ReportFilters

User = get_user_model()
NO_TYPOLOGY = "(none)"
# Case dispositions that confirm the alert was worth raising.
CONFIRMED = (Disposition.SAR_FILED, Disposition.CUSTOMER_EXITED)


def _share(part: int, whole: int) -> float | None:
    """Percent, one decimal; None when there is nothing to divide by."""
    return round(100 * part / whole, 1) if whole else None


def _alerts(filters: ReportFilters) -> QuerySet[Alert]:
    """Alerts raised (created) in the period."""
    alerts = Alert.objects.filter(created_at__gte=filters.start, created_at__lt=filters.end)
    return alerts.filter(partner=filters.partner) if filters.partner else alerts.all()


def _cases(filters: ReportFilters) -> QuerySet[Case]:
    return Case.objects.filter(partner=filters.partner) if filters.partner else Case.objects.all()


def _closed_in(filters: ReportFilters) -> Q:
    return Q(closed_at__gte=filters.start, closed_at__lt=filters.end)


# --- Alerts raised, triaged and dismissed ---


@dataclass
class AlertCounts:
    key: str
    name: str
    raised: int = 0
    triaged: int = 0
    dismissed: int = 0


_ALERT_COUNTS = {
    "raised": Count("pk"),
    "triaged": Count("pk", filter=~Q(status=AlertStatus.NEW)),
    "dismissed": Count("pk", filter=Q(status=AlertStatus.DISMISSED)),
}


def alert_counts_by_rule(*, filters: ReportFilters) -> list[AlertCounts]:
    counted = _alerts(filters).values("rule_id").annotate(**_ALERT_COUNTS).order_by()
    rules = Rule.objects.select_related("version").in_bulk([row["rule_id"] for row in counted])
    rows = [
        AlertCounts(
            key=rules[row["rule_id"]].code,
            name=_rule_name(rules[row["rule_id"]]),
            raised=row["raised"],
            triaged=row["triaged"],
            dismissed=row["dismissed"],
        )
        for row in counted
    ]
    return sorted(rows, key=lambda row: (-row.raised, row.key))


def alert_counts_by_typology(*, filters: ReportFilters) -> list[AlertCounts]:
    """An alert counts under every typology of its rule version (so rows may add up to more
    than the alerts raised); a version with none counts under "(none)"."""
    counted = _alerts(filters).values("rule_version_id").annotate(**_ALERT_COUNTS).order_by()
    typologies = dict(
        RuleVersion.objects.filter(pk__in=[row["rule_version_id"] for row in counted]).values_list(
            "pk", "typologies"
        )
    )
    labels = dict(Typology.choices)
    totals: dict[str, AlertCounts] = {}
    for row in counted:
        for typology in typologies[row["rule_version_id"]] or [NO_TYPOLOGY]:
            total = totals.setdefault(
                typology, AlertCounts(key=typology, name=labels.get(typology, "No typology"))
            )
            total.raised += row["raised"]
            total.triaged += row["triaged"]
            total.dismissed += row["dismissed"]
    return sorted(totals.values(), key=lambda row: (-row.raised, row.key))


def _rule_name(rule: Rule) -> str:
    return rule.version.name if rule.version_id else rule.code


# --- Rule precision: alert -> case -> SAR, and false positives ---


@dataclass
class RulePrecision:
    rule: str
    name: str
    raised: int
    in_case: int
    dismissed: int
    sar_filed: int
    customer_exited: int
    false_positive: int  # in a case closed as false positive (dismissed alerts not included)
    no_action: int

    @property
    def decided(self) -> int:
        """Alerts with a final outcome: dismissed, or in a closed case."""
        return (
            self.dismissed
            + self.sar_filed
            + self.customer_exited
            + self.false_positive
            + self.no_action
        )

    @property
    def confirmed(self) -> int:
        return self.sar_filed + self.customer_exited

    @property
    def false_positives(self) -> int:
        return self.dismissed + self.false_positive

    @property
    def case_rate(self) -> float | None:
        return _share(self.in_case, self.raised)

    @property
    def sar_rate(self) -> float | None:
        return _share(self.sar_filed, self.raised)

    @property
    def precision(self) -> float | None:
        return _share(self.confirmed, self.decided)

    @property
    def false_positive_share(self) -> float | None:
        return _share(self.false_positives, self.decided)


def rule_precision(*, filters: ReportFilters) -> list[RulePrecision]:
    """Per rule, its alerts raised in the period and what became of them so far."""
    counted = (
        _alerts(filters)
        .values("rule_id")
        .annotate(
            raised=Count("pk"),
            in_case=Count("pk", filter=Q(status=AlertStatus.IN_CASE)),
            dismissed=Count("pk", filter=Q(status=AlertStatus.DISMISSED)),
        )
        .order_by()
    )
    # Not dismissed, in a closed case. A closed case takes no more alerts, so it closed after
    # its alerts were raised: only cases closed since the period began are read.
    closed = (
        _alerts(filters)
        .exclude(status=AlertStatus.DISMISSED)
        .filter(case_link__case__closed_at__gte=filters.start)
        .values("rule_id", "case_link__case__disposition")
        .annotate(alerts=Count("pk"))
        .order_by()
    )
    by_disposition: dict[tuple[int, str], int] = {
        (row["rule_id"], row["case_link__case__disposition"]): row["alerts"] for row in closed
    }
    rules = Rule.objects.select_related("version").in_bulk([row["rule_id"] for row in counted])
    rows = [
        RulePrecision(
            rule=rules[row["rule_id"]].code,
            name=_rule_name(rules[row["rule_id"]]),
            raised=row["raised"],
            in_case=row["in_case"],
            dismissed=row["dismissed"],
            **{
                str(disposition): by_disposition.get((row["rule_id"], disposition), 0)
                for disposition in Disposition.values
            },
        )
        for row in counted
    ]
    return sorted(rows, key=lambda row: (-row.raised, row.rule))


# --- Time to triage and to close, SLA breaches ---

ALL_SEVERITIES = "all"


@dataclass
class ResponseTimes:
    severity: str
    triaged: int = 0
    triage_median_hours: float | None = None
    triage_p90_hours: float | None = None
    closed: int = 0
    close_median_hours: float | None = None
    close_p90_hours: float | None = None
    due: int = 0
    breached: int = 0

    @property
    def breach_share(self) -> float | None:
        return _share(self.breached, self.due)


def _percentiles_sql(table: str, *, period: str, moment: str, since: str) -> str:
    """Count, median and 90th percentile of ``moment - since`` in seconds, of the rows whose
    ``period`` column falls in the period, over all and per severity, in one statement.

    One ordered-set aggregate per severity, each FILTERed, sorts only its own rows: about
    twice as fast as GROUP BY ROLLUP (severity), which sorts by severity first. The ORM has
    no ordered-set aggregate."""
    seconds = f"date_part('epoch', {moment} - {since})"  # float: sorts faster than numeric
    columns = [f"count(*), percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {seconds})"]
    for severity in Severity.values:
        only = f"FILTER (WHERE severity = '{severity}')"
        columns.append(
            f"count(*) {only}, "
            f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {seconds}) {only}"
        )
    return (
        f"SELECT {', '.join(columns)} FROM {table} "  # noqa: S608 (our own names)
        f"WHERE {period} >= %s AND {period} < %s AND {moment} IS NOT NULL {{partner}}"
    )


# Alerts raised in the period, triaged since; cases closed in the period.
_TRIAGE_SQL = _percentiles_sql(
    "alerts_alert", period="created_at", moment="triaged_at", since="created_at"
)
_CLOSE_SQL = _percentiles_sql(
    "cases_case", period="closed_at", moment="closed_at", since="created_at"
)


def _percentiles(sql: str, filters: ReportFilters) -> dict[str, tuple]:
    """{severity or "all": (count, median hours, p90 hours)}."""
    params: list = [filters.start, filters.end]
    partner = ""
    if filters.partner is not None:
        partner, params = "AND partner_id = %s", [*params, filters.partner.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql.format(partner=partner), params)
        values = cursor.fetchone()
    keys = [ALL_SEVERITIES, *Severity.values]
    return {key: (values[2 * n], *_hours(values[2 * n + 1])) for n, key in enumerate(keys)}


def _hours(seconds: list[float] | None) -> tuple[float | None, float | None]:
    """(median, p90) in hours, one decimal; no figures when nothing was measured."""
    if not seconds:
        return None, None
    median, p90 = (round(value / 3600, 1) for value in seconds)
    return median, p90


def response_times(*, filters: ReportFilters, now: datetime | None = None) -> list[ResponseTimes]:
    """One row per severity, then one over all: time to triage (alerts raised in the period),
    time to close (cases closed in it), and SLA breaches of the cases due in it."""
    now = now or timezone.now()
    rows = {key: ResponseTimes(severity=key) for key in [*Severity.values, ALL_SEVERITIES]}
    for key, (count, median, p90) in _percentiles(_TRIAGE_SQL, filters).items():
        row = rows[key]
        row.triaged, row.triage_median_hours, row.triage_p90_hours = count, median, p90
    for key, (count, median, p90) in _percentiles(_CLOSE_SQL, filters).items():
        row = rows[key]
        row.closed, row.close_median_hours, row.close_p90_hours = count, median, p90
    due = _cases(filters).filter(due_at__gte=filters.start, due_at__lt=filters.end)
    breached = Q(closed_at__gt=F("due_at")) | Q(closed_at__isnull=True, due_at__lt=now)
    for entry in (
        due.values("severity")
        .annotate(due=Count("pk"), breached=Count("pk", filter=breached))
        .order_by()
    ):
        for key in (entry["severity"], ALL_SEVERITIES):
            rows[key].due += entry["due"]
            rows[key].breached += entry["breached"]
    return list(rows.values())


# --- Workload per investigator and per team ---


@dataclass
class Workload:
    name: str
    active: int
    overdue: int
    closed: int
    sar_filed: int


def workload_by_investigator(
    *, filters: ReportFilters, now: datetime | None = None
) -> list[Workload]:
    rows = _workload(filters, "assignee", now)
    users = User.objects.in_bulk([key for key in rows if key is not None])
    return _named(rows, lambda key: users[key].get_full_name() or users[key].username, "Unassigned")


def workload_by_team(*, filters: ReportFilters, now: datetime | None = None) -> list[Workload]:
    rows = _workload(filters, "team", now)
    teams = Team.objects.in_bulk([key for key in rows if key is not None])
    return _named(rows, lambda key: teams[key].name, "No team")


def _workload(filters: ReportFilters, field: str, now: datetime | None) -> dict:
    """Active cases now (and how many are overdue), and cases closed in the period, by
    ``field``."""
    now = now or timezone.now()
    active = Q(status__in=ACTIVE_STATUSES)
    closed = _closed_in(filters)
    counted = (
        _cases(filters)
        .filter(active | closed)
        .values(field)
        .annotate(
            active=Count("pk", filter=active),
            overdue=Count("pk", filter=active & Q(due_at__lt=now)),
            closed=Count("pk", filter=closed),
            sar_filed=Count("pk", filter=closed & Q(disposition=Disposition.SAR_FILED)),
        )
        .order_by()
    )
    return {row.pop(field): row for row in counted}


def _named(rows: dict, name, nobody: str) -> list[Workload]:
    named = [
        Workload(name=nobody if key is None else name(key), **counts)
        for key, counts in rows.items()
    ]
    return sorted(named, key=lambda row: (-row.active, -row.closed, row.name))


# --- SARs filed ---


@dataclass
class SarBucket:
    starts: date
    label: str
    filed: int = 0


def bucket_size(days: int) -> str:
    """Days for a period up to a month, ISO weeks (from Monday) up to half a year, months
    beyond."""
    return "day" if days <= 31 else "week" if days <= 183 else "month"


def sars_filed(*, filters: ReportFilters) -> list[SarBucket]:
    """Cases closed as "SAR filed" in the period, per day, week or month (every bucket, empty
    ones too); a first week or month may begin before the period but counts only inside it."""
    kind = bucket_size(filters.days)
    counted = (
        _cases(filters)
        .filter(_closed_in(filters), disposition=Disposition.SAR_FILED)
        .annotate(bucket=Trunc("closed_at", kind, tzinfo=timezone.get_default_timezone()))
        .values("bucket")
        .annotate(filed=Count("pk"))
        .order_by()
    )
    filed = {timezone.localtime(row["bucket"]).date(): row["filed"] for row in counted}
    return [
        SarBucket(starts=starts, label=_bucket_label(starts, kind), filed=filed.get(starts, 0))
        for starts in _bucket_starts(filters.first_day, filters.last_day, kind)
    ]


def _bucket_starts(first: date, last: date, kind: str) -> list[date]:
    if kind == "day":
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if kind == "week":
        monday = first - timedelta(days=first.weekday())
        return [monday + timedelta(weeks=n) for n in range((last - monday).days // 7 + 1)]
    starts, month = [], first.replace(day=1)
    while month <= last:
        starts.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return starts


def _bucket_label(starts: date, kind: str) -> str:
    if kind == "week":
        year, week, _ = starts.isocalendar()
        return f"{year}-W{week:02d}"
    return starts.strftime("%Y-%m") if kind == "month" else starts.isoformat()


# --- Decisions by outcome ---


@dataclass
class DecisionCount:
    outcome: str
    label: str
    decisions: int
    share: float | None


def decisions_by_outcome(*, filters: ReportFilters) -> list[DecisionCount]:
    """Decisions made (decided_at) in the period, per outcome, every outcome listed."""
    decided = Decision.objects.filter(decided_at__gte=filters.start, decided_at__lt=filters.end)
    # Named partners, even for "all": the (partner, decided_at) index then serves both.
    partners = (
        [filters.partner.pk]
        if filters.partner
        else list(PartnerBank.objects.values_list("pk", flat=True))
    )
    counted = dict(
        decided.filter(partner__in=partners)
        .values("outcome")
        .annotate(decisions=Count("pk"))
        .order_by()
        .values_list("outcome", "decisions")
    )
    total = sum(counted.values())
    return [
        DecisionCount(
            outcome=outcome,
            label=label,
            decisions=counted.get(outcome, 0),
            share=_share(counted.get(outcome, 0), total),
        )
        for outcome, label in DecisionOutcome.choices
    ]
