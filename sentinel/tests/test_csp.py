"""The Content-Security-Policy on HTML pages: present everywhere, strict about scripts, and
every page's own markup within it (no inline script, handler or style the policy refuses)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from cases.tests import factories as case_factories
from rules.tests import factories
from sentinel.csp import _hash_source
from transactions.tests.factories import PartnerBankFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/cases/",
    "/cases/{case}/",
    "/alerts/{alert}/",
    "/audit/",
    "/admin/alerts/webhookdelivery/",
    "/monitor/",
    "/admin/",
    "/admin/rules/rule/",
    "/api/docs/",
]


@pytest.fixture
def staff_browser(django_user_model):
    PartnerBankFactory()
    factories.rule(code="big_amount", expression="amount >= 1000")
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    browser = Client()
    browser.force_login(user)
    case = case_factories.case()
    browser.ids = {"case": case.pk, "alert": case.alert_links.first().alert_id}
    return browser


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


class InlineFinder(HTMLParser):
    """Inline scripts, styles, event handlers and style attributes, with their nonces."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str | None, str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes:
            if attributes.get("type") not in ("application/json",):
                self.found.append(("script", attributes.get("nonce"), ""))
        if tag == "style":
            self.found.append(("style", attributes.get("nonce"), ""))
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(("handler", None, f"{tag} {name}"))
            if name == "style":
                self.found.append(("style-attribute", None, value or ""))
            if name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.found.append(("javascript-url", None, value))


@pytest.mark.parametrize("path", PAGES + ["/login/"])
def test_every_html_page_has_a_strict_policy_its_markup_keeps_to(staff_browser, path):
    # Given a logged-in administrator (or anyone, for the login page)
    browser = staff_browser if path != "/login/" else Client()

    path = path.format(**getattr(staff_browser, "ids", {}))

    # When a page is opened
    response = browser.get(path)

    # Then it carries a policy that runs scripts from this origin or with this request's nonce
    assert response.status_code == 200
    rules = policy(response)
    nonce = re.search(r"'nonce-([^']+)'", rules["script-src"]).group(1)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert rules["object-src"] == "'none'" and rules["base-uri"] == "'none'"
    assert rules["frame-ancestors"] == "'none'"
    # and nothing in the page relies on what the policy refuses
    finder = InlineFinder()
    finder.feed(response.content.decode())
    allowed_attributes = rules["style-src-attr"]
    for kind, element_nonce, detail in finder.found:
        if kind in ("script", "style"):
            assert element_nonce == nonce, f"inline {kind} without the nonce on {path}"
        elif kind == "style-attribute":
            assert _hash_source(detail) in allowed_attributes, f"style={detail!r} on {path}"
        else:
            pytest.fail(f"{kind} {detail} on {path}")


def test_each_response_gets_its_own_nonce(staff_browser):
    first = policy(staff_browser.get("/"))["script-src"]
    second = policy(staff_browser.get("/"))["script-src"]

    assert first != second


def test_json_answers_carry_no_html_policy(client):
    response = client.get("/healthz")

    assert response["Content-Type"].startswith("application/json")
    assert "Content-Security-Policy" not in response
