"""The report pages: who may see them, filters kept in links and refused when wrong, the chart
and its table, and the CSV (same filters, formulas disarmed)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cases.tests import factories as case_factories
from sentinel.reports.catalog import REPORTS
from transactions.tests.factories import PartnerBankFactory

from .factories import raised

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def officer_client():
    return logged_in(case_factories.officer())


@pytest.mark.parametrize("slug", ["", *(f"{report.slug}/" for report in REPORTS)])
def test_officers_and_seniors_see_every_report_and_others_are_refused(slug):
    for user, status in (
        (case_factories.officer(), 200),
        (case_factories.senior(), 200),
        (case_factories.investigator(), 403),
        (case_factories.administrator(), 403),
    ):
        client = logged_in(user)
        assert client.get(f"/reports/{slug}").status_code == status, user.groups.first()
        if slug:
            assert client.get(f"/reports/{slug}?format=csv").status_code == status
    anonymous = Client().get(f"/reports/{slug}")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_the_nav_links_the_reports_for_those_who_may_see_them(officer_client):
    assert 'href="/reports/"' in officer_client.get("/").content.decode()
    investigator = logged_in(case_factories.investigator())
    assert 'href="/reports/"' not in investigator.get("/").content.decode()


def test_a_report_draws_its_chart_beside_its_table_and_links_keep_the_filters(officer_client):
    bank = PartnerBankFactory(name="First Bank", slug="first-bank")
    rule = case_factories.a_rule(code="big_amount")
    today = timezone.now().replace(hour=12)
    raised(rule=rule, partner=bank, at=today - timedelta(days=1))

    query = "partner=first-bank&from=2026-01-01&to=2026-12-31"
    response = officer_client.get(f"/reports/alerts-by-rule/?{query}")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg class="chart"' in html and 'role="img"' in html
    assert 'id="report-table"' in html and '<th scope="row">big_amount</th>' in html
    assert f'href="?{query.replace("&", "&amp;")}&amp;format=csv"' in html
    assert " style=" not in html and "<script" not in html  # the strict CSP
    index = officer_client.get(f"/reports/?{query}").content.decode()
    assert f'href="/reports/rule-precision/?{query.replace("&", "&amp;")}"' in index


def test_without_filters_a_report_covers_the_last_30_days_of_every_partner(officer_client):
    response = officer_client.get("/reports/sars-filed/")
    today = timezone.localdate()
    assert response.context["filters"].last_day == today
    assert response.context["filters"].first_day == today - timedelta(days=29)
    assert response.context["filters"].partner is None
    assert len(response.context["table"]) == 30


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-11-30&to=2026-11-01", "on or before"),
        ("from=2024-01-01&to=2026-01-01", "at most 366 days"),
        ("from=yesterday", "Enter a valid date"),
        ("partner=no-such-bank", "Select a valid choice"),
    ],
)
def test_wrong_filters_are_refused_with_the_reason(officer_client, query, message):
    page = officer_client.get(f"/reports/alerts-by-rule/?{query}")
    assert page.status_code == 400 and message in page.content.decode()
    assert "report-table" not in page.content.decode()
    export = officer_client.get(f"/reports/alerts-by-rule/?{query}&format=csv")
    assert export.status_code == 400 and message in export.content.decode()


def test_an_unknown_report_is_not_found(officer_client):
    assert officer_client.get("/reports/no-such-report/").status_code == 404


def test_the_csv_has_the_filtered_rows_and_disarms_formulas(officer_client):
    # Given a rule whose name a spreadsheet would run, and alerts of two partners
    bank, other = PartnerBankFactory(slug="first-bank"), PartnerBankFactory(slug="other-bank")
    rule = case_factories.a_rule(code="sneaky", name='=HYPERLINK("http://x.example")')
    moment = datetime(2026, 11, 3, 12, tzinfo=UTC)
    raised(rule=rule, partner=bank, at=moment, status="dismissed")
    raised(rule=rule, partner=other, at=moment)

    query = "partner=first-bank&from=2026-11-01&to=2026-11-30"
    response = officer_client.get(f"/reports/alerts-by-rule/?{query}&format=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="alerts-by-rule-first-bank-2026-11-01-2026-11-30.csv"'
    )
    assert csv_of(response) == [
        ["Rule", "Name", "Raised", "Triaged", "Dismissed"],
        ["sneaky", '\'=HYPERLINK("http://x.example")', "1", "1", "1"],
    ]
    # Figures with none to give are empty cells, percentages plain numbers
    precision = csv_of(officer_client.get(f"/reports/rule-precision/?{query}&format=csv"))
    header, row = precision
    values = dict(zip(header, row, strict=True))
    assert (values["Decided"], values["Precision %"], values["False positives %"]) == (
        "1",
        "0.0",
        "100.0",
    )
    assert values["Case rate %"] == "0.0"


def test_every_report_answers_on_an_empty_database_in_a_bounded_number_of_queries(
    officer_client, django_assert_max_num_queries
):
    for report in REPORTS:
        with django_assert_max_num_queries(12):
            response = officer_client.get(f"/reports/{report.slug}/")
        assert response.status_code == 200
        assert re.search(r"No data in this period|<tbody>\s*<tr>", response.content.decode())
