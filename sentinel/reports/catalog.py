"""The reports: for each, its title, what it reads, its columns, and which columns the chart
draws. The page, the chart, the table and the CSV all come from this one description."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from . import selectors
from .charts import Chart, bar_chart
from .periods import ReportFilters

TEXT, COUNT, PERCENT, HOURS = "text", "count", "percent", "hours"
_UNITS = {PERCENT: " %", HOURS: " h"}  # after a figure on the chart


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = COUNT


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    summary: str
    rows: Callable[..., list]  # selector(filters=...)
    columns: tuple[Column, ...]
    charted: tuple[str, ...]  # keys of the columns drawn; the first column names the bars

    def table(self, rows: list) -> list[list]:
        """Each row's values, in column order (None: no figure)."""
        return [[getattr(row, column.key) for column in self.columns] for row in rows]

    def cells(self, rows: list) -> list[list[tuple]]:
        """Each row as (value, column kind) pairs, for the page's table."""
        kinds = [column.kind for column in self.columns]
        return [list(zip(values, kinds, strict=True)) for values in self.table(rows)]

    def chart(self, rows: list) -> Chart:
        by_key = {column.key: column for column in self.columns}
        return bar_chart(
            title=self.title,
            categories=[str(getattr(row, self.columns[0].key)) for row in rows],
            series=[
                (by_key[key].label, [getattr(row, key) for row in rows]) for key in self.charted
            ],
            unit=_UNITS.get(by_key[self.charted[0]].kind, ""),
        )

    def csv_rows(self, rows: list) -> Iterator[list]:
        yield [column.label for column in self.columns]
        yield from self.table(rows)

    def run(self, filters: ReportFilters) -> list:
        return self.rows(filters=filters)


_ALERT_COLUMNS = (
    Column("raised", "Raised"),
    Column("triaged", "Triaged"),
    Column("dismissed", "Dismissed"),
)
_WORKLOAD_COLUMNS = (
    Column("active", "Active cases now"),
    Column("overdue", "Overdue now"),
    Column("closed", "Closed in period"),
    Column("sar_filed", "SARs filed in period"),
)

REPORTS: tuple[Report, ...] = (
    Report(
        slug="alerts-by-rule",
        title="Alerts by rule",
        summary="Alerts raised in the period per rule, and how many have been triaged and "
        "dismissed so far.",
        rows=selectors.alert_counts_by_rule,
        columns=(Column("key", "Rule", TEXT), Column("name", "Name", TEXT), *_ALERT_COLUMNS),
        charted=("raised", "triaged", "dismissed"),
    ),
    Report(
        slug="alerts-by-typology",
        title="Alerts by typology",
        summary="The same counts per typology of the alerting rule version (an alert counts "
        "under each of its typologies).",
        rows=selectors.alert_counts_by_typology,
        columns=(Column("key", "Typology", TEXT), Column("name", "Name", TEXT), *_ALERT_COLUMNS),
        charted=("raised", "triaged", "dismissed"),
    ),
    Report(
        slug="rule-precision",
        title="Rule precision",
        summary="Per rule: alerts raised, worked in a case, ending in a SAR; precision and the "
        "share dismissed or closed as false positive, from what has been decided so far.",
        rows=selectors.rule_precision,
        columns=(
            Column("rule", "Rule", TEXT),
            Column("raised", "Raised"),
            Column("in_case", "Worked in a case"),
            Column("sar_filed", "In a SAR-filed case"),
            Column("customer_exited", "In a customer-exited case"),
            Column("dismissed", "Dismissed"),
            Column("false_positive", "In a false-positive case"),
            Column("no_action", "In a no-action case"),
            Column("decided", "Decided"),
            Column("case_rate", "Case rate %", PERCENT),
            Column("sar_rate", "SAR rate %", PERCENT),
            Column("precision", "Precision %", PERCENT),
            Column("false_positive_share", "False positives %", PERCENT),
        ),
        charted=("precision", "false_positive_share"),
    ),
    Report(
        slug="response-times",
        title="Time to triage, time to close, SLA breaches",
        summary="Per severity: hours from alert to triage (alerts raised in the period), from "
        "case opened to closed (cases closed in the period), and SLA breaches of the cases due "
        "in the period.",
        rows=selectors.response_times,
        columns=(
            Column("severity", "Severity", TEXT),
            Column("triaged", "Alerts triaged"),
            Column("triage_median_hours", "Triage median h", HOURS),
            Column("triage_p90_hours", "Triage p90 h", HOURS),
            Column("closed", "Cases closed"),
            Column("close_median_hours", "Close median h", HOURS),
            Column("close_p90_hours", "Close p90 h", HOURS),
            Column("due", "Cases due"),
            Column("breached", "SLA breached"),
            Column("breach_share", "Breached %", PERCENT),
        ),
        charted=(
            "triage_median_hours",
            "triage_p90_hours",
            "close_median_hours",
            "close_p90_hours",
        ),
    ),
    Report(
        slug="workload-investigators",
        title="Workload per investigator",
        summary="Per assignee: active cases and overdue ones now, cases closed and SARs filed "
        "in the period.",
        rows=selectors.workload_by_investigator,
        columns=(Column("name", "Investigator", TEXT), *_WORKLOAD_COLUMNS),
        charted=("active", "overdue", "closed"),
    ),
    Report(
        slug="workload-teams",
        title="Workload per team",
        summary="The same per case team (cases.Team, set in the admin or by routing).",
        rows=selectors.workload_by_team,
        columns=(Column("name", "Team", TEXT), *_WORKLOAD_COLUMNS),
        charted=("active", "overdue", "closed"),
    ),
    Report(
        slug="sars-filed",
        title="SARs filed",
        summary="Cases closed as 'SAR filed' per day (periods up to 31 days), ISO week (up to "
        "183 days) or month.",
        rows=selectors.sars_filed,
        columns=(Column("label", "Period", TEXT), Column("filed", "SARs filed")),
        charted=("filed",),
    ),
    Report(
        slug="decisions",
        title="Decisions by outcome",
        summary="What the rules decided about the transactions scored in the period.",
        rows=selectors.decisions_by_outcome,
        columns=(
            Column("label", "Outcome", TEXT),
            Column("decisions", "Decisions"),
            Column("share", "Share %", PERCENT),
        ),
        charted=("decisions",),
    ),
)

BY_SLUG = {report.slug: report for report in REPORTS}
