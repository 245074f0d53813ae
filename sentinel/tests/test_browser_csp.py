"""The Content-Security-Policy in a real browser: the staff pages load and work with it, and
Chromium reports no violation (sentinel/csp.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from cases.tests import factories as case_factories
from rules.tests import factories
from sentinel.accounts.testing import pass_second_factor_in_browser
from transactions.tests.factories import PartnerBankFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "correct horse battery staple"


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_factor_in_browser(page, "root")  # the one-time-code pages are under the CSP too
    page.wait_for_url(f"{base}/")


def test_staff_pages_work_under_the_policy_without_violations(live_server, django_user_model, page):
    # Given an administrator, two partners, a rule and a case, and the browser's console heard
    django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    PartnerBankFactory(name="Alpha Bank", slug="alpha-bank")
    PartnerBankFactory(name="Beta Bank", slug="beta-bank")
    factories.rule(code="big_amount", expression="amount >= 1000")
    case = case_factories.case()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    # When they open the staff pages one after another
    log_in(page, live_server.url)
    for path in ["/", "/cases/", f"/cases/{case.pk}/", "/admin/rules/rule/", "/api/docs/"]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    # and open a partner from the monitor's overview of every partner, then choose another
    # in its menu, which used an inline onchange handler
    page.goto(f"{live_server.url}/monitor/")
    page.locator("#overview").get_by_role("link", name="Alpha Bank").click()
    page.wait_for_url("**partner=alpha-bank**")
    page.get_by_label("Partner").select_option("beta-bank")
    page.wait_for_url("**partner=beta-bank**")

    # Then the API docs rendered (their script ran) and the browser refused nothing
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=10_000)
    assert violations == []


def test_an_inline_script_in_a_page_would_not_run(live_server, django_user_model, page):
    # Given a page whose markup carries an inline script without the nonce (what an injected
    # fragment would look like), served with the policy
    django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    log_in(page, live_server.url)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))

    # When the browser is asked to add and run one
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__injected = true'; document.body.appendChild(s); }"
    )

    # Then it does not run, and the browser says the policy refused it
    assert page.evaluate("() => window.__injected === undefined")
    assert any("Content Security Policy" in text for text in violations)
