"""Logging in to the staff side in a real browser (Chromium through Playwright)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from sentinel.roles import INVESTIGATOR

PASSWORD = "correct horse battery staple"

pytestmark = [
    pytest.mark.browser,
    # One worker runs all browser tests: one Chromium and one live server at a time.
    pytest.mark.xdist_group("browser"),
    # The live server reads committed data (live_server implies a transactional database).
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def investigator(django_user_model):
    user = django_user_model.objects.create_user(
        username="ines", password=PASSWORD, first_name="Ines", last_name="Ortega", is_staff=True
    )
    user.groups.add(Group.objects.get(name=INVESTIGATOR))
    return user


def log_in(page: Page, live_server: LiveServer, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_investigator_logs_in_and_sees_partner_traffic(live_server, investigator, page):
    # Given an investigator with an account, and the page's stylesheet requests recorded
    stylesheets = []
    page.on(
        "response",
        lambda response: stylesheets.append(response) if response.url.endswith(".css") else None,
    )

    # When she logs in with her password
    log_in(page, live_server, "ines", PASSWORD)

    # Then she lands on the home page, sees partner traffic and her name, styled
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name="Partner traffic").is_visible()
    assert page.get_by_text("Ines Ortega").is_visible()
    assert stylesheets and all(response.status == 200 for response in stylesheets)


def test_wrong_password_shows_the_error_and_stays_on_the_login_page(
    live_server, investigator, page
):
    # Given an investigator with an account
    # When someone tries her username with the wrong password
    log_in(page, live_server, "ines", "not her password")

    # Then the login page says so and nothing else opens
    assert page.get_by_role("alert").is_visible()
    assert "didn't match" in page.get_by_role("alert").inner_text()
    assert page.url.startswith(f"{live_server.url}/login/")
    assert page.get_by_role("heading", name="Partner traffic").count() == 0


def test_anonymous_visitor_is_sent_to_the_login_page(live_server, page):
    # Given a visitor who has not logged in
    # When they open the home page
    page.goto(f"{live_server.url}/")

    # Then they get the login form, set to bring them back home afterwards
    assert re.search(r"/login/\?next=/$", page.url)
    assert page.get_by_role("heading", name="Log in").is_visible()
