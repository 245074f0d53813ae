"""An investigation in a real browser (Debian's Chromium through Playwright), against the real
ASGI server: a new alert arrives live in the queue, the investigator claims it, reads why it
fired, writes a note and proposes a SAR; a senior investigator approves; the history shows it."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Page, expect

from cases.models import Case, SarReportingEntity
from rules.tests.factories import only_these_rules
from sentinel.accounts.testing import pass_second_factor_in_browser
from transactions.models import Transaction
from transactions.tests.factories import PartnerBankFactory

from . import factories as f

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def _score(partner, payload: dict) -> None:
    try:
        f.ingest_and_score(partner, payload)
    finally:
        connection.close()


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_factor_in_browser(page, username)  # seniors enrol and verify a TOTP code
    page.wait_for_url(f"{base}/")


def test_an_investigation_from_live_alert_to_approved_sar(asgi_server, page):
    # Given an investigator, a senior investigator, a live rule and nothing in the queue
    ines = f.investigator("ines", first_name="Ines", last_name="Ortega")
    f.senior("sam", first_name="Sam", last_name="Okafor")
    partner = PartnerBankFactory()
    SarReportingEntity.objects.create(partner=partner, rentity_id=4711, swift="FRSTUS33")
    only_these_rules(f.a_rule(severity="high", code="big_amount", typologies=["structuring"]))
    ARTIFACTS.mkdir(exist_ok=True)

    _log_in(page, asgi_server, ines.username)
    page.goto(f"{asgi_server}/cases/")
    page.locator('#case-queue[data-live="1"]').wait_for()  # the websocket is connected
    assert page.locator("#case-queue tr[data-case-id]").count() == 0

    # When a transaction hits the rule (scored on a thread of its own, as a worker would:
    # Playwright's event loop runs on this one, where the after-commit broadcast cannot)
    worker = threading.Thread(target=_score, args=(partner, f.payment(amount="9500.00")))
    worker.start()
    worker.join(30)
    case = Case.objects.get()
    connection.close()  # Playwright's loop made this thread "async": its connection is extra

    # Then its case appears in the queue without a reload
    row = page.locator(f'#case-queue tr[data-case-id="{case.pk}"]')
    row.wait_for()
    assert "big_amount" in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "cases-queue.png"), full_page=True)

    # When she presses j then c: the next unassigned case is hers and opens
    page.locator("body").press("j")
    page.keyboard.press("c")
    page.wait_for_url(f"{asgi_server}/cases/{case.pk}/")
    expect(page.locator("#case-status")).to_have_text("Investigating")
    expect(page.locator("#case-assignee")).to_have_text("Ines Ortega")

    # She reads why it fired, writes a note and proposes a SAR
    assert "9,500.00 USD" in page.locator("#transactions").inner_text()
    assert page.locator("#transactions .explanation").first.inner_text().strip()
    page.get_by_label("Add a note").fill("Customer moved **9,500** to a new beneficiary.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes .note-body strong")).to_have_text("9,500")
    # She drafts the suspicious-activity report from the case, writes why, and exports it
    page.get_by_role("button", name="Draft the report").click()
    page.get_by_label("Narrative: why the activity is suspicious").fill(
        "9,500 USD sent on to a beneficiary first seen that day: consistent with layering."
    )
    page.get_by_role("button", name="Save the report").click()
    page.get_by_role("button", name="Export XML, JSON and PDF").click()
    expect(page.locator("#sar-files tbody tr")).to_have_count(3)
    page.get_by_label("Disposition").select_option("sar_filed")
    page.get_by_label("Reason").fill("Pattern consistent with layering.")
    page.get_by_role("button", name="Close or propose closure").click()
    expect(page.locator("#case-status")).to_have_text("Pending approval")
    assert page.get_by_role("button", name="Approve closure").count() == 0  # not hers to approve
    page.screenshot(path=str(ARTIFACTS / "case-page.png"), full_page=True)

    # When the senior investigator logs in and approves
    page.get_by_role("button", name="Log out").click()
    _log_in(page, asgi_server, "sam")
    page.goto(f"{asgi_server}/cases/{case.pk}/")
    page.get_by_label("Comment (optional)").fill("Agreed, file it.")
    page.get_by_role("button", name="Approve closure").click()

    # Then the case is closed as a SAR, its PDF downloads, and the history names every step
    expect(page.locator("#case-status")).to_have_text("Closed")
    with page.expect_download() as download:
        page.locator("#sar-files a", has_text=".pdf").click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() in page.locator("#sar-files").inner_text()
    history = page.locator("#timeline").inner_text()
    for step in [
        "Opened by Sentinel",
        "Assigned by Ines Ortega",
        "Note added by Ines Ortega",
        "Suspicious-activity report drafted by Ines Ortega",
        "Suspicious-activity report exported by Ines Ortega",
        "Closure proposed by Ines Ortega",
        "Closure approved by Sam Okafor",
        "Closed by Sam Okafor",
    ]:
        assert step in history, step
    page.screenshot(path=str(ARTIFACTS / "case-closed.png"), full_page=True)


@pytest.fixture
def ring_case():
    """A1 paid 9,500 to the outside account B9 (alerted); B9 paid 9,000 on to A5, and A5
    8,800 back to A1: a ring. Scored before the browser starts (see the ``page`` fixture)."""
    partner = PartnerBankFactory()
    only_these_rules(f.a_rule(code="big_amount", expression="amount >= 9500"))
    f.ingest_and_score(partner, f.payment(60, amount="9500.00"))
    f.ingest_and_score(
        partner,
        f.payment(
            40,
            amount="9000.00",
            direction="inbound",
            originator={"account_id": "B9", "name": "Bo Chen"},
            beneficiary={"account_id": "A5", "customer_id": "C5", "name": "Kim Park"},
        ),
        f.payment(
            20,
            amount="8800.00",
            originator={"account_id": "A5", "customer_id": "C5", "name": "Kim Park"},
            beneficiary={"account_id": "A1", "name": "Ana Lima"},
        ),
    )
    f.investigator("ivy")
    shown = {
        tx.amount: timezone.localtime(tx.occurred_at).strftime("%Y-%m-%d %H:%M")
        for tx in Transaction.objects.all()
    }
    return Case.objects.get(), shown


def test_following_the_money_of_a_case_round_a_ring(ring_case, asgi_server, page):
    case, shown = ring_case
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, asgi_server, "ivy")

    # When she opens the case, the flow starts at the alerted transaction
    page.goto(f"{asgi_server}/cases/{case.pk}/")
    flow = page.locator("#money-flow-canvas")
    expect(flow).to_be_visible()
    expect(flow.locator(".mf-node")).to_have_count(2)
    expect(flow.locator(".mf-edge-label")).to_have_text([f"9,500.00 USD{shown[9500]}"])

    # She follows the money out of B9: one hop, to A5, with its amount and date
    page.get_by_role("button", name="Follow the money out of B9").click()
    expect(flow.locator('.mf-node[data-node-id="account:A5"]')).to_be_visible()
    expect(flow.locator(".mf-edge-label")).to_have_count(2)
    assert f"9,000.00 USD{shown[9000]}" in flow.locator(".mf-edge-label").all_text_contents()
    expect(page.locator("#money-flow-status")).to_contain_text("1 transaction out of B9")
    expect(page.locator("#money-flow-table tbody tr")).to_have_count(2)

    # By keyboard, one hop further: the money comes back to A1, drawn once
    page.get_by_role("button", name="Follow the money out of A5").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#money-flow-status")).to_contain_text("comes back to A1")
    expect(flow.locator(".mf-node")).to_have_count(3)
    expect(flow.locator(".mf-edge-back")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "case-money-flow.png"), full_page=True)

    # Folding the first hop folds what was opened from it
    page.get_by_role("button", name="Fold the money out of B9").click()
    expect(flow.locator(".mf-node")).to_have_count(2)

    # The two-hop neighbourhood is the second tab
    page.get_by_role("tab", name="Two-hop neighbourhood").click()
    expect(page.locator("#linked-entities")).to_be_visible()
    expect(page.locator("#money-flow-panel")).to_be_hidden()
    expect(page.locator("#linked-graph-canvas canvas").first).to_be_visible()
    page.get_by_role("tab", name="Two-hop neighbourhood").press("ArrowLeft")
    expect(page.locator("#money-flow-panel")).to_be_visible()
    assert errors == []


@pytest.fixture
def window_scan_ring():
    """P0..P4, strangers, each paid HUB 900 this week: the window scan's fan-in, raised as one
    alert and one case. Scanned before the browser starts (see the ``page`` fixture)."""
    partner = PartnerBankFactory()
    f.ring_by_window_scan(partner)
    f.investigator("ivy")
    return partner, Case.objects.get()


def test_a_ring_case_from_the_window_scan_names_and_draws_the_ring(
    window_scan_ring, asgi_server, page
):
    partner, case = window_scan_ring
    errors, refused = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            refused.append(page.url) if "Content Security Policy" in message.text else None
        ),
    )
    _log_in(page, asgi_server, "ivy")

    # When she opens the ring's case, it lists the ring's six accounts, each a link
    page.goto(f"{asgi_server}/cases/{case.pk}/")
    rings = page.locator("#rings")
    expect(rings.locator("tbody tr")).to_have_count(6)
    expect(rings.get_by_role("link", name="HUB")).to_be_visible()

    # and the money flow draws the pattern: five ring transfers into the hub, marked
    flow = page.locator("#money-flow-canvas")
    expect(flow.locator(".mf-edge-ring")).to_have_count(5)
    expect(flow.locator(".mf-node.mf-role-hub")).to_have_count(1)
    expect(flow.locator(".mf-node.mf-role-sender")).to_have_count(5)
    expect(page.locator("#money-flow-status")).to_contain_text("The ring: 5 transfers among 6")
    expect(page.locator("#money-flow-table tbody tr")).to_have_count(5)
    page.screenshot(path=str(ARTIFACTS / "ring-case.png"), full_page=True)
    assert refused == []  # the linked-entities graph included (its container rule is ours)

    # She follows one member to its page: it shows the ring, with its alert and case
    rings.get_by_role("link", name="P2").click()
    page.wait_for_url(f"**/accounts/{partner.pk}/P2/")
    membership = page.locator("#account-rings tbody tr")
    expect(membership).to_have_count(1)
    expect(membership).to_contain_text("network_fan_in")
    expect(membership).to_contain_text("Sender")
    expect(page.locator("#account-transactions tbody tr")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "ring-member-account.png"), full_page=True)

    # From there, the ring's alert: the same pattern drawn on the alert page
    membership.get_by_role("link", name="#").first.click()
    page.wait_for_url("**/alerts/*/")
    expect(page.locator("#ring tbody tr")).to_have_count(6)
    expect(page.locator("#money-flow-canvas .mf-edge-ring")).to_have_count(5)

    # and back to the case, one click
    page.goto(f"{asgi_server}/accounts/{partner.pk}/P2/")
    assert refused == []
    page.locator("#account-rings").get_by_role("link", name=f"Case #{case.pk}").click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    assert errors == []
