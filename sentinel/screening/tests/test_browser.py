"""Four eyes on a false positive, in a real browser (Debian's Chromium through Playwright)
against the real ASGI server: an investigator asks on the party page, an officer approves, and
the party no longer matches."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from sentinel.accounts.testing import pass_second_factor_in_browser
from sentinel.accounts.tests.factories import PASSWORD, investigator, officer
from sentinel.screening.services import screening_list_import

FIXTURES = Path(__file__).parent / "fixtures"
NAME = "Youssef Ebrahim Alamri"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_screening_index"),
]


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_factor_in_browser(page, username)
    page.wait_for_url(f"{base}/")


def test_an_investigator_asks_an_officer_approves_and_the_match_is_gone(asgi_server, page):
    # Given a sanctions list that names someone close to a customer of ours
    screening_list_import(
        list_name="OFAC SDN", source="ofac_sdn", content=(FIXTURES / "ofac_sdn.xml").read_bytes()
    )
    investigator("ivy")
    officer("olga")
    party = f"{asgi_server}/screening/party/?name=Youssef%20Ebrahim%20Alamri&country=YE"

    # When the investigator reads the match and asks for a false positive, with a reason
    _log_in(page, asgi_server, "ivy")
    page.goto(party)
    match = page.locator("#matches tbody tr", has_text="AL-AMRI")
    expect(match).to_contain_text("youssef=yusuf phonetic 90")
    match.get_by_label("Why not").fill("Born 1990 in Sana'a; the entry was born in 1961")
    match.get_by_role("button", name="Ask for a false positive").click()
    expect(page.locator(".flash")).to_contain_text("once another person approves it")
    # (she may not approve her own request)
    decision = page.locator("#decisions tbody tr")
    expect(decision).to_contain_text("awaiting another person's approval")
    expect(decision.get_by_role("button", name="Approve")).to_have_count(0)

    # Then an officer approves it, and the party matches nothing any more
    page.get_by_role("button", name="Log out").click()
    _log_in(page, asgi_server, "olga")
    page.goto(party)
    page.locator("#decisions tbody tr").get_by_role("button", name="Approve").click()
    expect(page.locator(".flash")).to_contain_text("no longer matches this entry")
    expect(page.locator("#decisions tbody tr")).to_contain_text("by olga")
    page.goto(party)
    expect(page.locator("#no-matches")).to_be_visible()
