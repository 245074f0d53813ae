"""A compliance officer writes a rule in the admin, in a real browser (Chromium, Playwright)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from playwright.sync_api import expect

from rules.choices import RuleStatus
from rules.models import Rule
from sentinel.accounts.testing import pass_second_factor_in_browser
from sentinel.roles import COMPLIANCE_OFFICER

PASSWORD = "correct horse battery staple"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def officer(django_user_model):
    user = django_user_model.objects.create_user(username="olga", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=COMPLIANCE_OFFICER))
    return user


def test_the_expression_is_checked_while_typing_and_the_rule_saved_as_a_draft(
    live_server, officer, page
):
    # Given a compliance officer on the new-rule page
    page.goto(f"{live_server.url}/admin/login/?next=/admin/rules/rule/add/")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_factor_in_browser(page, "olga")  # officers enrol and verify a TOTP code
    page.wait_for_url(f"{live_server.url}/admin/rules/rule/add/")
    check = page.locator("#expression-check")

    # When she types an expression with a misspelt field
    page.locator("textarea.rule-expression").fill("amout >= 10000")

    # Then the page tells her what is wrong and where, before she saves
    # (expect, not wait_for_function: the page's Content-Security-Policy refuses the eval the
    # latter runs in the page)
    expect(check).to_contain_text("amout")
    assert "amout" in check.inner_text()
    assert "column" in check.inner_text()

    # When she corrects it
    page.locator("textarea.rule-expression").fill(
        'amount >= 10000 and sum(amount, by="account", within="7d") > 20000'
    )

    # Then it is accepted, naming the aggregate it will use
    expect(check).to_contain_text("Expression OK")
    assert "sum(amount, by account, 7d)" in check.inner_text()

    # And saving the form creates the rule as a draft
    page.get_by_label("Code").fill("big_weekly")
    page.get_by_label("Name").fill("Big weekly inflow")
    page.get_by_label("Score").fill("30")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"{live_server.url}/admin/rules/rule/")
    rule = Rule.objects.select_related("version").get(code="big_weekly")
    # The ORM used its own connection while Playwright's loop ran: close it, or the test
    # database cannot be dropped at the end of the run.
    connections.close_all()
    assert rule.status == RuleStatus.DRAFT
    assert rule.version.expression.startswith("amount >= 10000")
