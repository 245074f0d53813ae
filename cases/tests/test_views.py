"""The queue and case pages, server-rendered: what an investigator sees and can do, what the
pages refuse, and that neither notes nor files can carry script."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases import services
from cases.choices import CaseStatus
from cases.models import Case, CaseAttachment
from rules.tests.factories import only_these_rules
from sentinel.testing import logged_in
from transactions.tests.factories import PartnerBankFactory

from . import factories as f

pytestmark = pytest.mark.django_db

XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=//evil.example></iframe>",
    '<svg onload="alert(1)">',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "**bold** <style>body{display:none}</style>",
]


@pytest.fixture
def scored():
    partner = PartnerBankFactory(slug="acme")
    rule = f.a_rule(severity="high", code="big_amount")
    only_these_rules(rule)
    f.ingest_and_score(partner, f.payment(amount="12500.50", currency="USD"))
    return Case.objects.get()


# --- Queue -------------------------------------------------------------------------------------


def test_the_queue_lists_active_cases_with_their_rules_and_sla(scored):
    page = logged_in(f.investigator()).get("/cases/").content.decode()
    assert f'data-case-id="{scored.pk}"' in page
    assert "big_amount" in page
    assert 'class="sla sla-on_time"' in page
    assert 'id="claim-next"' in page
    assert 'id="bulk-assign"' not in page  # investigators do not assign to others


def test_saved_views_and_filters_narrow_the_queue():
    partner = PartnerBankFactory()
    me = f.investigator()
    mine = f.case(partner=partner, customer="C1", assignee=me)
    free = f.case(partner=partner, customer="C2")
    late = f.case(partner=partner, customer="C3", severity="critical")
    Case.objects.filter(pk=late.pk).update(due_at=late.created_at.replace(year=2020))
    client = logged_in(me)

    def ids(query: str) -> set[int]:
        html = client.get(f"/cases/?{query}").content.decode()
        return {int(i) for i in re.findall(r'<tr data-case-id="(\d+)"', html)}

    assert ids("view=mine") == {mine.pk}
    assert ids("view=unassigned") == {free.pk, late.pk}
    assert ids("view=overdue") == {late.pk}
    assert ids("severity=critical") == {late.pk}
    assert ids("subject=C2") == {free.pk}
    assert ids("ordering=-priority") == {mine.pk, free.pk, late.pk}


def test_the_queue_is_sorted_by_priority_unless_asked_otherwise():
    partner = PartnerBankFactory()
    low = f.case(partner=partner, customer="C1", priority=300)
    high = f.case(partner=partner, customer="C2", priority=1500)
    mid = f.case(partner=partner, customer="C3", priority=900)
    client = logged_in(f.investigator())

    def order(query: str = "") -> list[int]:
        html = client.get(f"/cases/?{query}").content.decode()
        return [int(i) for i in re.findall(r'<tr data-case-id="(\d+)"', html)]

    assert order() == [high.pk, mid.pk, low.pk]
    assert order("ordering=priority") == [low.pk, mid.pk, high.pk]
    assert order("ordering=-id") == [mid.pk, high.pk, low.pk]


def test_the_queue_page_costs_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    # Given 300 open cases with 600 alerts
    partner, rule = PartnerBankFactory(), f.a_rule()
    f.many_cases(300, partner=partner, rule=rule)
    client.force_login(f.senior())

    # When the first page and a filtered page render
    with django_assert_max_num_queries(10):  # session, user, perms, count, page, summary, form
        first = client.get("/cases/")
    with django_assert_max_num_queries(10):
        client.get("/cases/?view=overdue&ordering=due_at&page=2")

    # Then the first page holds 50 rows
    assert first.content.decode().count("<tr data-case-id=") == 50


def test_claim_next_from_the_queue_opens_the_claimed_case(scored):
    response = logged_in(f.investigator()).post("/cases/claim-next/")
    assert response.status_code == 302 and response["Location"] == f"/cases/{scored.pk}/"
    assert Case.objects.get().status == "investigating"


def test_a_senior_bulk_assigns_from_the_queue():
    partner, worker = PartnerBankFactory(), f.investigator()
    one, two = f.case(partner=partner, customer="C1"), f.case(partner=partner, customer="C2")
    response = logged_in(f.senior()).post(
        "/cases/bulk-assign/", {"cases": [one.pk, two.pk], "assignee": worker.pk}
    )
    assert response.status_code == 302
    assert set(Case.objects.values_list("assignee", flat=True)) == {worker.pk}


def test_an_investigator_cannot_bulk_assign():
    case, worker = f.case(), f.investigator()
    response = logged_in(worker).post(
        "/cases/bulk-assign/", {"cases": [case.pk], "assignee": f.investigator().pk}
    )
    assert response.status_code == 403
    assert Case.objects.get().assignee is None


def test_staff_without_a_case_group_get_403_and_visitors_the_login():
    assert logged_in(f.member(None)).get("/cases/").status_code == 403
    assert Client().get("/cases/")["Location"].startswith("/login/")


def test_the_row_fragment_is_what_the_live_queue_swaps_in(scored):
    html = logged_in(f.investigator()).get(f"/cases/{scored.pk}/row/").content.decode()
    assert html.startswith(f'<tr data-case-id="{scored.pk}"')


# --- Case page ---------------------------------------------------------------------------------


def test_the_case_page_shows_subject_hits_and_money_in_the_users_time_zone(scored):
    client = logged_in(f.investigator())
    client.cookies["tz"] = "Asia/Tokyo"
    page = client.get(f"/cases/{scored.pk}/").content.decode()

    assert f"Case #{scored.pk}: customer C1" in page  # the subject in the title
    subject = page.split('id="subject"', 1)[1].split("</section>", 1)[0]
    assert 'Ana Lima <span class="muted">C1</span>' in subject  # the customer record, by name
    assert "12,500.50 USD" in page
    assert "big_amount" in page and 'class="explanation"' in page
    assert 'id="risk-rating">low<' in page
    assert "JST" in page  # the due date in her zone
    assert 'id="linked-entities"' in page and 'id="sar"' in page  # the hooks


@pytest.mark.parametrize("payload", XSS)
def test_notes_cannot_inject_script(payload):
    case = f.case(status=CaseStatus.INVESTIGATING)
    client = logged_in(case.assignee)

    client.post(f"/cases/{case.pk}/note/", {"body": payload})
    page = client.get(f"/cases/{case.pk}/").content.decode()

    notes = page.split('id="notes"', 1)[1].split("</section>", 1)[0]
    elements = _elements(notes)
    assert not {"script", "iframe", "style", "img", "svg"} & {tag for tag, _ in elements}
    for _, attributes in elements:
        assert not [name for name in attributes if name.startswith("on")]
        href = (attributes.get("href") or "").strip().lower()
        assert not href.startswith(("javascript:", "data:"))


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def _elements(html: str) -> list[tuple[str, dict]]:
    """Every element the browser would build from the HTML, with its attributes."""
    collector = _Collector()
    collector.feed(html)
    return collector.elements


def test_markdown_still_renders_the_useful_parts():
    case = f.case(status=CaseStatus.INVESTIGATING)
    client = logged_in(case.assignee)
    client.post(f"/cases/{case.pk}/note/", {"body": "**Wire** to [bank](https://example.com)"})
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "<strong>Wire</strong>" in page
    assert 'href="https://example.com"' in page and "noopener" in page


def test_page_actions_answer_409_403_and_400_with_the_message():
    worker = f.investigator()
    case = f.case()
    client = logged_in(worker)

    closing = client.post(
        f"/cases/{case.pk}/propose-closure/", {"disposition": "no_action", "reason": "x"}
    )
    assert closing.status_code == 409
    assert "unassigned case cannot be closed" in closing.content.decode()

    proposer = f.senior()
    pending = f.case(customer="C2", status=CaseStatus.INVESTIGATING, assignee=proposer)
    pending = f.exported_sar(pending)
    services.case_propose_closure(case=pending, actor=proposer, disposition="sar_filed", reason="x")
    own = logged_in(proposer).post(f"/cases/{pending.pk}/approve/", {})
    assert own.status_code == 403 and "another senior investigator" in own.content.decode()

    empty = logged_in(f.senior()).post(f"/cases/{pending.pk}/send-back/", {"comment": ""})
    assert empty.status_code == 400
    stale = client.post(f"/cases/{case.pk}/claim/", {"version": 99})
    assert stale.status_code == 409
    assert Case.objects.get(pk=case.pk).assignee is None


def test_the_whole_workflow_through_the_pages():
    worker, lead = f.investigator(), f.senior()
    case = f.case(severity="critical")
    w, s = logged_in(worker), logged_in(lead)

    assert w.post(f"/cases/{case.pk}/claim/", {"version": 1}).status_code == 302
    assert w.post(f"/cases/{case.pk}/tag/", {"add": "pep, mule"}).status_code == 302
    w.post(f"/cases/{case.pk}/propose-closure/", {"disposition": "no_action", "reason": "ok"})
    assert Case.objects.get().status == "pending_approval"  # critical: four eyes
    s.post(f"/cases/{case.pk}/send-back/", {"comment": "Check the device."})
    w.post(f"/cases/{case.pk}/propose-closure/", {"disposition": "no_action", "reason": "ok"})
    s.post(f"/cases/{case.pk}/approve/", {"comment": ""})

    case = Case.objects.get()
    assert (case.status, case.disposition, case.tags) == ("closed", "no_action", ["pep", "mule"])
    history = w.get(f"/cases/{case.pk}/").content.decode()
    assert history.count('data-event-type="sent_back"') == 1
    assert history.count('data-event-type="closure_approved"') == 1


def test_the_approver_sees_and_approves_the_pinned_sar_export_on_the_page():
    # Given a closure as SAR filed proposed with the case's one export
    proposer = f.senior()
    pending = f.case(status=CaseStatus.INVESTIGATING, assignee=proposer)
    pending = f.exported_sar(pending)
    pending = services.case_propose_closure(
        case=pending, actor=proposer, disposition="sar_filed", reason="Layering."
    )
    approver = logged_in(f.senior())

    # When another senior investigator opens the case, the page names the file they approve
    page = approver.get(f"/cases/{pending.pk}/").content.decode()
    assert f'name="sar_sha256" value="{pending.proposed_sar_sha256}"' in page

    # And approving another file is refused; approving the one shown closes the case
    other = approver.post(f"/cases/{pending.pk}/approve/", {"sar_sha256": "b" * 64})
    assert other.status_code == 409 and "reviewed the SAR export" in other.content.decode()
    approver.post(f"/cases/{pending.pk}/approve/", {"sar_sha256": pending.proposed_sar_sha256})
    assert Case.objects.get(pk=pending.pk).disposition == "sar_filed"


# --- Attachments -------------------------------------------------------------------------------


def test_an_attachment_is_stored_outside_the_web_root_and_served_only_to_case_staff(settings):
    case = f.case()
    upload = SimpleUploadedFile("statement.csv", b"date,amount\n2026-11-01,9900\n")
    response = logged_in(f.investigator()).post(f"/cases/{case.pk}/attach/", {"file": upload})
    assert response.status_code == 302
    stored = CaseAttachment.objects.get()
    path = stored.file.path
    assert path.startswith(str(settings.SENTINEL_ATTACHMENT_ROOT))
    assert "static" not in path

    url = f"/cases/{case.pk}/attachments/{stored.pk}/"
    download = logged_in(f.officer()).get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert "sandbox" in download["Content-Security-Policy"]
    assert logged_in(f.member(None)).get(url).status_code == 403
    assert Client().get(url).status_code == 302  # to the login page
    other = f.case(customer="C9")
    assert (
        logged_in(f.officer()).get(f"/cases/{other.pk}/attachments/{stored.pk}/").status_code == 404
    )


def test_uploads_over_the_limit_or_of_refused_types_are_rejected(settings):
    settings.SENTINEL_ATTACHMENT_MAX_BYTES = 1000
    case = f.case()
    client = logged_in(f.investigator())
    cases = [
        ("big.txt", b"a" * 1001, "limit is 1,000"),
        ("run.exe", b"MZ\x90\x00", "refused"),
        ("page.html", b"<script>alert(1)</script>", "refused"),
        ("fake.png", b"GIF89a", "not PNG"),
        ("binary.txt", b"\x00\x01\x02", "not UTF-8"),
        ("empty.pdf", b"", "empty"),
    ]
    for name, content, message in cases:
        response = client.post(
            f"/cases/{case.pk}/attach/", {"file": SimpleUploadedFile(name, content)}
        )
        assert response.status_code == 400, name
        assert message in response.content.decode(), name
    assert not CaseAttachment.objects.exists()
    assert not list((settings.SENTINEL_ATTACHMENT_ROOT).glob("**/*.*"))


def test_the_case_page_costs_the_same_queries_with_more_alerts_and_transactions(
    django_assert_max_num_queries,
):
    # Given a case of two rules with six transactions, notes and a file
    partner = PartnerBankFactory()
    rules = [f.a_rule(code="big_amount"), f.a_rule(expression="amount >= 2000", code="bigger")]
    only_these_rules(*rules)
    f.ingest_and_score(partner, *(f.payment(10 - i, amount="2500.00") for i in range(6)))
    case = Case.objects.get()
    worker = f.investigator()
    services.case_claim(case=case, actor=worker)
    for body in ("one", "two", "three"):
        services.case_add_note(case=case, actor=worker, body=body)
    client = logged_in(f.senior())

    # When a senior opens it
    # session, user, second-factor device, perms, case + 12 prefetches (the transactions'
    # labels the tenth, the alerts' ring members the eleventh, the subjects linked by a ring
    # the twelfth), subject; SAR draft 1; linked graph 7; money flow 1; the model's
    # explanations 1
    with django_assert_max_num_queries(30):
        page = client.get(f"/cases/{case.pk}/")

    # Then everything is on it within a fixed number of queries
    assert page.content.decode().count('<tr data-transaction-id="') == 6
