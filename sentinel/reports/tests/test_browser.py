"""A compliance officer in a real browser (Debian's Chromium through Playwright), against the
real ASGI server: opens a report from the nav, narrows it to one partner, downloads its CSV."""

from __future__ import annotations

import csv
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cases.tests import factories as case_factories
from sentinel.accounts.testing import pass_second_factor_in_browser
from transactions.tests.factories import PartnerBankFactory

from .factories import raised

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(case_factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_factor_in_browser(page, username)  # officers enrol and verify a TOTP code
    page.wait_for_url(f"{base}/")


def test_an_officer_narrows_a_report_to_one_partner_and_downloads_its_csv(asgi_server, page):
    # Given alerts of one rule at two partners yesterday, one of them dismissed
    case_factories.officer("olga")
    first = PartnerBankFactory(name="First Bank", slug="first-bank")
    other = PartnerBankFactory(name="Other Bank", slug="other-bank")
    rule = case_factories.a_rule(code="big_amount")
    yesterday = timezone.now() - timedelta(days=1)
    raised(rule=rule, partner=first, at=yesterday, status="dismissed")
    raised(rule=rule, partner=other, at=yesterday)
    raised(rule=rule, partner=other, at=yesterday)

    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    # When the officer opens the report from the nav: the last 30 days, every partner
    _log_in(page, asgi_server, "olga")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Alerts by rule").click()
    row = page.locator("#report-table tbody tr", has_text="big_amount")
    expect(row.locator("td")).to_have_text(["Test rule", "3", "1", "1"])
    expect(page.get_by_role("img", name="Alerts by rule")).to_be_visible()

    # And narrows it to the first partner
    page.get_by_label("Partner").select_option("first-bank")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"partner=first-bank"))
    expect(page.locator("#report-period")).to_contain_text("First Bank")
    expect(row.locator("td")).to_have_text(["Test rule", "1", "1", "1"])

    # Then its CSV holds the same rows, for the same filters
    with page.expect_download() as download:
        page.locator("#report-csv").click()
    assert download.value.suggested_filename.startswith("alerts-by-rule-first-bank-")
    with open(download.value.path(), newline="") as exported:
        assert list(csv.reader(exported)) == [
            ["Rule", "Name", "Raised", "Triaged", "Dismissed"],
            ["big_amount", "Test rule", "1", "1", "1"],
        ]
    # And the chart and its styles needed nothing the Content-Security-Policy refuses
    assert violations == []
