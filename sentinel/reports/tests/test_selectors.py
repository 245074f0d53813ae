"""The reports' figures on hand-built data: definitions, empty periods, partner isolation,
period boundaries in other time zones (docs/reports.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from alerts.choices import AlertStatus
from alerts.models import Alert
from alerts.services import alert_acknowledge, alert_dismiss, alerts_move_into_case
from cases.choices import Disposition
from cases.tests import factories as case_factories
from rules.choices import DecisionOutcome
from sentinel.reports import selectors
from sentinel.reports.periods import ReportFilterForm, ReportFilters
from transactions.tests.factories import PartnerBankFactory

from .factories import case_of, decided, raised

pytestmark = pytest.mark.django_db

NEW, ACK, IN_CASE, DISMISSED = "new", "acknowledged", "in_case", "dismissed"
HOUR = timedelta(hours=1)


def november(partner=None) -> ReportFilters:
    return ReportFilters(partner=partner, first_day=date(2026, 11, 1), last_day=date(2026, 11, 30))


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def bank():
    return PartnerBankFactory(name="First Bank")


@pytest.fixture
def other_bank():
    return PartnerBankFactory(name="Other Bank")


@pytest.fixture
def structuring():
    return case_factories.a_rule(code="structuring_rule", typologies=["structuring", "large_cash"])


@pytest.fixture
def untagged():
    return case_factories.a_rule(code="untagged_rule")


def test_an_empty_period_has_no_rows_and_no_figures(bank):
    filters = november(bank)
    assert selectors.alert_counts_by_rule(filters=filters) == []
    assert selectors.alert_counts_by_typology(filters=filters) == []
    assert selectors.rule_precision(filters=filters) == []
    assert selectors.workload_by_investigator(filters=filters) == []
    assert selectors.workload_by_team(filters=filters) == []
    times = selectors.response_times(filters=filters)
    assert [row.severity for row in times] == ["low", "medium", "high", "critical", "all"]
    assert all(
        (row.triaged, row.triage_median_hours, row.closed, row.close_p90_hours, row.due)
        == (0, None, 0, None, 0)
        for row in times
    )
    sars = selectors.sars_filed(filters=filters)
    assert len(sars) == 30 and {bucket.filed for bucket in sars} == {0}
    decisions = selectors.decisions_by_outcome(filters=filters)
    assert [(row.outcome, row.decisions, row.share) for row in decisions] == [
        ("allow", 0, None),
        ("review", 0, None),
        ("block", 0, None),
    ]


def test_alerts_raised_triaged_and_dismissed_by_rule_and_typology(bank, structuring, untagged):
    # Given alerts raised in November in each status, and two just outside it
    for status in (NEW, ACK, IN_CASE, DISMISSED):
        raised(rule=structuring, partner=bank, at=at(3), status=status)
    raised(rule=structuring, partner=bank, at=datetime(2026, 11, 1, tzinfo=UTC))  # first instant
    raised(rule=structuring, partner=bank, at=datetime(2026, 12, 1, tzinfo=UTC))  # next period
    raised(rule=structuring, partner=bank, at=datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC))
    raised(rule=untagged, partner=bank, at=at(30, 23), status=DISMISSED)

    by_rule = selectors.alert_counts_by_rule(filters=november(bank))
    assert [(row.key, row.raised, row.triaged, row.dismissed) for row in by_rule] == [
        ("structuring_rule", 5, 3, 1),
        ("untagged_rule", 1, 1, 1),
    ]
    # An alert counts under each typology of its rule; a rule without one under "(none)"
    by_typology = selectors.alert_counts_by_typology(filters=november(bank))
    assert [(row.key, row.raised, row.triaged, row.dismissed) for row in by_typology] == [
        ("large_cash", 5, 3, 1),
        ("structuring", 5, 3, 1),
        ("(none)", 1, 1, 1),
    ]


def test_a_partner_sees_only_its_own_figures(bank, other_bank, structuring):
    raised(rule=structuring, partner=bank, at=at(3), status=DISMISSED)
    raised(rule=structuring, partner=other_bank, at=at(3))
    raised(rule=structuring, partner=other_bank, at=at(4))
    case_of(partner=other_bank, opened=at(2), disposition=Disposition.SAR_FILED, closed=at(5))

    (mine,) = selectors.alert_counts_by_rule(filters=november(bank))
    (everyone,) = selectors.alert_counts_by_rule(filters=november())
    assert (mine.raised, mine.dismissed) == (1, 1)
    assert (everyone.raised, everyone.dismissed) == (3, 1)
    assert sum(bucket.filed for bucket in selectors.sars_filed(filters=november(bank))) == 0
    assert sum(bucket.filed for bucket in selectors.sars_filed(filters=november())) == 1


def test_period_bounds_are_utc_midnights_whatever_the_offset_of_the_moment(bank, structuring):
    # 2026-11-30 23:30 in New York is already 1 December in UTC; 1 November 00:30 in Paris is
    # still 31 October in UTC
    new_york, paris = timezone(timedelta(hours=-5)), timezone(timedelta(hours=1))
    raised(rule=structuring, partner=bank, at=datetime(2026, 11, 30, 23, 30, tzinfo=new_york))
    raised(rule=structuring, partner=bank, at=datetime(2026, 11, 1, 0, 30, tzinfo=paris))
    raised(rule=structuring, partner=bank, at=datetime(2026, 11, 30, 18, 59, tzinfo=new_york))

    form = ReportFilterForm({"from": "2026-11-01", "to": "2026-11-30"})
    assert form.is_valid()
    filters = form.filters()
    assert (filters.start, filters.end) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    (row,) = selectors.alert_counts_by_rule(filters=filters)
    assert row.raised == 1


def test_rule_precision_follows_alerts_to_their_case_dispositions(bank, structuring, untagged):
    # Given a rule's alerts: dismissed at triage, in cases closed each way, in an open case,
    # untouched; and a dismissed alert inside a SAR case (dismissed wins: a false positive)
    def alert(status=IN_CASE):
        return raised(rule=structuring, partner=bank, at=at(3), status=status)

    case_of(alert(DISMISSED), partner=bank, opened=at(3), disposition="", closed=None)
    case_of(
        alert(),
        alert(DISMISSED),
        partner=bank,
        opened=at(3),
        disposition=Disposition.SAR_FILED,
        closed=at(9),
    )
    case_of(
        alert(), partner=bank, opened=at(3), disposition=Disposition.CUSTOMER_EXITED, closed=at(9)
    )
    case_of(
        alert(), partner=bank, opened=at(3), disposition=Disposition.FALSE_POSITIVE, closed=at(9)
    )
    case_of(alert(), partner=bank, opened=at(3), disposition=Disposition.NO_ACTION, closed=at(9))
    case_of(alert(), partner=bank, opened=at(3), assignee=case_factories.investigator())
    alert(NEW)
    raised(rule=untagged, partner=bank, at=at(4))

    rows = {row.rule: row for row in selectors.rule_precision(filters=november(bank))}
    row = rows["structuring_rule"]
    assert (row.raised, row.in_case, row.dismissed) == (8, 5, 2)
    assert (row.sar_filed, row.customer_exited, row.false_positive, row.no_action) == (1, 1, 1, 1)
    # decided: 2 dismissed + 4 in closed cases; confirmed: SAR and exit; false: 2 + 1
    assert (row.decided, row.confirmed, row.false_positives) == (6, 2, 3)
    assert (row.precision, row.false_positive_share) == (33.3, 50.0)
    assert (row.case_rate, row.sar_rate) == (62.5, 12.5)
    # A rule with nothing decided yet has no precision (not zero)
    assert (rows["untagged_rule"].decided, rows["untagged_rule"].precision) == (0, None)


def test_times_to_triage_and_close_and_sla_breaches(bank, structuring):
    # Given high alerts triaged after 1, 3 and 5 hours, one untriaged, one critical after 2
    for hours in (1, 3, 5):
        raised(rule=structuring, partner=bank, at=at(3), status=ACK, triaged_after=hours * HOUR)
    raised(rule=structuring, partner=bank, at=at(3))
    raised(
        rule=structuring,
        partner=bank,
        at=at(3),
        status=DISMISSED,
        triaged_after=2 * HOUR,
        severity="critical",
    )
    # and cases: closed after 48 h and 10 h in November, one closed in October (not counted)
    due = {"due": at(20)}
    case_of(partner=bank, opened=at(2), disposition="no_action", closed=at(4), **due)
    case_of(
        partner=bank,
        opened=at(2, 0),
        disposition="no_action",
        closed=at(2, 10),
        severity="critical",
        **due,
    )
    case_of(
        partner=bank,
        opened=datetime(2026, 10, 1, tzinfo=UTC),
        disposition="no_action",
        closed=datetime(2026, 10, 2, tzinfo=UTC),
    )
    # SLA: due in November and closed late; open and overdue now; open, due later; on time
    now = at(25)
    investigator = case_factories.investigator()
    late = case_of(partner=bank, opened=at(1), due=at(4), disposition="no_action", closed=at(5))
    overdue = case_of(partner=bank, opened=at(1), due=at(24), assignee=investigator)
    case_of(partner=bank, opened=at(1), due=at(28), assignee=investigator)

    rows = {row.severity: row for row in selectors.response_times(filters=november(bank), now=now)}
    high, critical, everyone = rows["high"], rows["critical"], rows["all"]
    assert (high.triaged, high.triage_median_hours, high.triage_p90_hours) == (3, 3.0, 4.6)
    assert (critical.triaged, critical.triage_median_hours) == (1, 2.0)
    assert (everyone.triaged, everyone.triage_median_hours) == (4, 2.5)
    assert (high.closed, high.close_median_hours) == (2, 72.0)  # 48 h and the late one's 96 h
    assert (critical.closed, critical.close_median_hours, critical.close_p90_hours) == (
        1,
        10.0,
        10.0,
    )
    assert everyone.closed == 3
    # Due in November: the first two cases (closed in time), late, overdue, the one due on the 28th
    assert (everyone.due, everyone.breached) == (5, 2)
    assert (high.due, high.breached, high.breach_share) == (4, 2, 50.0)
    assert late.due_at < late.closed_at and overdue.closed_at is None


def test_workload_per_investigator_and_team(bank, other_bank):
    ines, omar = case_factories.investigator("ines"), case_factories.investigator("omar")
    payments = case_factories.team("Payments")
    now = at(20)
    case_of(partner=bank, opened=at(1), due=at(10), assignee=ines, team=payments)  # overdue
    case_of(partner=bank, opened=at(1), due=at(28), assignee=ines, team=payments)
    case_of(partner=bank, opened=at(1), assignee=ines, disposition="sar_filed", closed=at(5))
    case_of(
        partner=bank,
        opened=datetime(2026, 10, 1, tzinfo=UTC),
        assignee=omar,
        disposition="no_action",
        closed=datetime(2026, 10, 3, tzinfo=UTC),
    )  # not in November
    case_of(partner=bank, opened=at(19), due=at(28))  # nobody's yet
    case_of(partner=other_bank, opened=at(1), due=at(28), assignee=omar)

    people = selectors.workload_by_investigator(filters=november(bank), now=now)
    assert [(w.name, w.active, w.overdue, w.closed, w.sar_filed) for w in people] == [
        ("ines", 2, 1, 1, 1),
        ("Unassigned", 1, 0, 0, 0),
    ]
    teams = selectors.workload_by_team(filters=november(bank), now=now)
    assert [(w.name, w.active, w.overdue, w.closed) for w in teams] == [
        ("Payments", 2, 1, 0),
        ("No team", 1, 0, 1),
    ]


def test_sars_filed_per_day_week_or_month(bank):
    for closed in (at(5, 1), at(5, 23), at(17)):
        case_of(partner=bank, opened=at(1), disposition="sar_filed", closed=closed)
    case_of(partner=bank, opened=at(1), disposition="false_positive", closed=at(5))

    daily = selectors.sars_filed(filters=november(bank))
    assert [(b.label, b.filed) for b in daily if b.filed] == [("2026-11-05", 2), ("2026-11-17", 1)]
    quarter = ReportFilters(partner=bank, first_day=date(2026, 10, 1), last_day=date(2026, 12, 29))
    weekly = selectors.sars_filed(filters=quarter)
    assert weekly[0].label == "2026-W40" and weekly[0].starts == date(2026, 9, 28)
    assert [(b.label, b.filed) for b in weekly if b.filed] == [("2026-W45", 2), ("2026-W47", 1)]
    year = ReportFilters(partner=bank, first_day=date(2026, 1, 1), last_day=date(2026, 12, 31))
    monthly = selectors.sars_filed(filters=year)
    assert len(monthly) == 12 and (monthly[10].label, monthly[10].filed) == ("2026-11", 3)


def test_decisions_by_outcome_in_the_period(bank, other_bank):
    for outcome in ("allow", "allow", "allow", "block"):
        decided(partner=bank, at=at(3), outcome=outcome)
    decided(partner=bank, at=datetime(2026, 12, 1, tzinfo=UTC), outcome="review")
    decided(partner=other_bank, at=at(3), outcome="review")

    mine = selectors.decisions_by_outcome(filters=november(bank))
    assert [(row.outcome, row.decisions, row.share) for row in mine] == [
        (DecisionOutcome.ALLOW, 3, 75.0),
        (DecisionOutcome.REVIEW, 0, 0.0),
        (DecisionOutcome.BLOCK, 1, 25.0),
    ]
    everyone = selectors.decisions_by_outcome(filters=november())
    assert [row.decisions for row in everyone] == [3, 1, 1]


def test_the_alert_services_keep_when_an_alert_was_first_triaged(bank, structuring):
    """The services set triaged_at once, when the alert first leaves 'new'."""
    investigator = case_factories.investigator()
    alert = raised(rule=structuring, partner=bank, at=at(3))
    assert alert.triaged_at is None
    acknowledged = alert_acknowledge(alert=alert, actor=investigator)
    first = acknowledged.triaged_at
    assert first is not None and acknowledged.status == AlertStatus.ACKNOWLEDGED
    dismissed = alert_dismiss(alert=acknowledged, actor=investigator, reason="Known payroll.")
    assert dismissed.triaged_at == first
    waiting = raised(rule=structuring, partner=bank, at=at(3))
    case = case_of(waiting, partner=bank, opened=at(3))
    (moved,) = alerts_move_into_case(alerts=[waiting], case_id=case.pk, actor=investigator)
    assert moved.triaged_at is not None
    assert Alert.objects.get(pk=waiting.pk).triaged_at == moved.triaged_at
