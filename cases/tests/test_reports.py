"""A case's suspicious-activity report: drafted from the case, edited, exported and stored
with its hashes in the history; downloads only for people who may see the case."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.test import Client
from django.utils import timezone
from lxml import etree
from rest_framework.test import APIClient

from cases import services
from cases.choices import CaseEventType
from cases.exceptions import CasePermissionError, CaseStateError
from cases.models import CaseEvent, SarFile, SarReportingEntity
from cases.sar import validate_json, validate_xml
from transactions.services import exchange_rates_import
from transactions.tests.factories import PartnerBankFactory

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    """An investigated case from a real scored transaction (typology from its rule)."""
    partner = PartnerBankFactory(slug="first-bank", name="First Bank")
    f.a_rule(code="big_amount", typologies=["structuring"])
    f.ingest_and_score(partner, f.payment(amount="9500.00"), f.payment(amount="9700.00"))
    from cases.models import Case

    case = Case.objects.get()
    worker = f.investigator("ana")
    return services.case_claim(case=case, actor=worker)


def _registered(partner) -> None:
    SarReportingEntity.objects.create(partner=partner, rentity_id=4711, swift="FRSTUS33")


def test_a_draft_is_prefilled_from_the_case(case):
    report = services.sar_draft(case=case, actor=case.assignee)

    document = report.document
    assert document["entity_reference"] == case.reference
    assert len(document["transactions"]) == 2
    assert [i["typology"] for i in document["indicators"]] == ["structuring"]
    assert document["reason"] == ""
    assert CaseEvent.objects.filter(case=case, type=CaseEventType.SAR_DRAFTED).count() == 1
    # drafting again returns the same draft
    assert services.sar_draft(case=case, actor=case.assignee).pk == report.pk


def test_export_refuses_until_the_report_can_be_filed_and_stores_nothing(case):
    services.sar_draft(case=case, actor=case.assignee)

    with pytest.raises(ValidationError) as refused:
        services.sar_export(case=case, actor=case.assignee)

    problems = " ".join(refused.value.message_dict["sar"])
    assert "rentity_id" in problems and "reason" in problems.lower()
    assert not SarFile.objects.exists()
    assert not CaseEvent.objects.filter(type=CaseEventType.SAR_EXPORTED).exists()


def test_the_narrative_is_saved_and_the_export_is_valid_and_hashed_in_the_history(case):
    _registered(case.partner)
    services.sar_draft(case=case, actor=case.assignee)
    narrative = "Two cash deposits just under the reporting line in one day <script>x</script>."

    services.sar_edit(case=case, actor=case.assignee, reason=narrative, action="Account frozen.")
    files = services.sar_export(case=case, actor=case.assignee)

    by_format = {sar_file.format: sar_file for sar_file in files}
    assert set(by_format) == {"xml", "json", "pdf"}
    for sar_file in files:
        content = sar_file.file.read()
        assert hashlib.sha256(content).hexdigest() == sar_file.sha256
    validate_xml(by_format["xml"].file.open("rb").read())
    body = by_format["json"].file.open("rb").read()
    validate_json(body)
    assert json.loads(body)["report"]["reason"] == narrative
    assert by_format["pdf"].file.open("rb").read().startswith(b"%PDF")
    event = CaseEvent.objects.get(case=case, type=CaseEventType.SAR_EXPORTED)
    assert {row["sha256"] for row in event.parameters["files"]} == {f.sha256 for f in files}
    assert event.actor == case.assignee


def test_exported_files_are_append_only(case):
    _registered(case.partner)
    services.sar_draft(case=case, actor=case.assignee)
    services.sar_edit(case=case, actor=case.assignee, reason="Structuring.", action="")
    sar_file = services.sar_export(case=case, actor=case.assignee)[0]
    with pytest.raises(IntegrityError), db_transaction.atomic():
        SarFile.objects.filter(pk=sar_file.pk).update(sha256="0" * 64)


def test_the_investigator_chooses_the_indicators(case):
    services.sar_draft(case=case, actor=case.assignee)
    with pytest.raises(ValidationError, match="Unknown typologies: astrology"):
        services.sar_edit(
            case=case, actor=case.assignee, reason="x", action="", indicators=["astrology"]
        )
    report = services.sar_edit(
        case=case,
        actor=case.assignee,
        reason="Layered through new beneficiaries.",
        action="",
        indicators=["structuring", "pass_through"],
    )
    assert [i["typology"] for i in report.document["indicators"]] == ["structuring", "pass_through"]
    event = CaseEvent.objects.filter(type=CaseEventType.SAR_EDITED).latest("id")
    assert event.parameters["fields"] == ["reason", "indicators"]


def test_only_people_who_work_cases_write_reports_and_not_on_closed_cases(case):
    with pytest.raises(CasePermissionError):
        services.sar_draft(case=case, actor=f.officer())
    with pytest.raises(CaseStateError, match="no suspicious-activity report"):
        services.sar_export(case=case, actor=case.assignee)
    with pytest.raises(ValidationError):
        services.sar_edit(case=case, actor=case.assignee, reason="x" * 4001, action="")


def test_the_page_drafts_saves_exports_and_serves_the_files(case):
    _registered(case.partner)
    browser = Client()
    browser.force_login(case.assignee)
    base = f"/cases/{case.pk}/"

    assert "Draft the report" in browser.get(base).content.decode()
    browser.post(f"{base}sar-draft/")
    case.refresh_from_db()
    saved = browser.post(
        f"{base}sar-edit/",
        {
            "reason": "Structuring below the line.",
            "action": "",
            "indicators": ["structuring"],
            "version": case.version,
        },
    )
    assert saved.status_code == 302
    exported = browser.post(f"{base}sar-export/", follow=True)
    page = exported.content.decode()
    assert exported.status_code == 200
    sar_file = SarFile.objects.get(format="pdf")
    assert sar_file.sha256 in page
    download = browser.get(f"{base}sar/{sar_file.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert download["Cache-Control"] == "private, no-store"

    # someone without access to cases cannot fetch it
    outsider = Client()
    outsider.force_login(f.member(None, "outsider"))
    assert outsider.get(f"{base}sar/{sar_file.pk}/").status_code == 403


def test_an_export_refused_on_the_page_says_why(case):
    browser = Client()
    browser.force_login(case.assignee)
    browser.post(f"/cases/{case.pk}/sar-draft/")
    refused = browser.post(f"/cases/{case.pk}/sar-export/")
    assert refused.status_code == 400
    assert "rentity_id" in refused.content.decode()
    assert not SarFile.objects.exists()


def test_the_api_drafts_edits_exports_and_downloads(case):
    from rest_framework.test import APIClient

    _registered(case.partner)
    api = APIClient()
    api.force_authenticate(case.assignee)
    base = f"/api/v1/cases/{case.pk}/sar/"

    assert api.get(base).status_code == 404
    drafted = api.post(f"{base}draft/", {}, format="json")
    assert drafted.status_code == 200, drafted.json()
    assert drafted.json()["document"]["entity_reference"] == case.reference
    bad = api.post(f"{base}edit/", {"reason": "x", "colour": "red"}, format="json")
    assert bad.status_code == 400
    edited = api.post(f"{base}edit/", {"reason": "Structuring.", "action": ""}, format="json")
    assert edited.json()["document"]["reason"] == "Structuring."
    exported = api.post(f"{base}export/", {}, format="json")
    assert exported.status_code == 200, exported.json()
    files = exported.json()["files"]
    assert sorted(row["format"] for row in files) == ["json", "pdf", "xml"]
    xml = next(row for row in files if row["format"] == "xml")
    download = api.get(f"{base}files/{xml['id']}/")
    content = b"".join(download.streaming_content)
    assert hashlib.sha256(content).hexdigest() == xml["sha256"]


@pytest.fixture
def proposed(case):
    """The case's SAR written and exported by its assignee, and its closure as "SAR filed"
    proposed: it waits for a senior investigator's approval."""
    f.exported_sar(case)
    return services.case_propose_closure(
        case=case, actor=case.assignee, disposition="sar_filed", reason="Structuring."
    )


def _xml_hash(case) -> str:
    return SarFile.objects.filter(report__case=case, format="xml").latest("created_at").sha256


def test_a_sar_closure_pins_its_export_and_the_approval_records_the_hash(proposed):
    pinned = _xml_hash(proposed)
    assert proposed.proposed_sar_sha256 == pinned

    closed = services.case_approve_closure(case=proposed, actor=f.senior(), sar_sha256=pinned)

    assert closed.disposition == "sar_filed" and closed.proposed_sar_sha256 == ""
    approval = CaseEvent.objects.get(case=closed, type=CaseEventType.CLOSURE_APPROVED)
    assert approval.parameters["sar_sha256"] == pinned
    proposal = CaseEvent.objects.get(case=closed, type=CaseEventType.CLOSURE_PROPOSED)
    assert proposal.parameters["sar_sha256"] == pinned


def test_the_sar_is_frozen_while_its_closure_awaits_approval(proposed):
    # Neither the assignee nor the would-be approver may edit or re-export it
    for actor in (proposed.assignee, f.senior()):
        with pytest.raises((CaseStateError, CasePermissionError)):
            services.sar_edit(case=proposed, actor=actor, reason="Changed.", action="")
        with pytest.raises((CaseStateError, CasePermissionError)):
            services.sar_export(case=proposed, actor=actor)
    with pytest.raises(CaseStateError, match="frozen"):
        services.sar_edit(case=proposed, actor=proposed.assignee, reason="Changed.", action="")
    assert SarFile.objects.filter(report__case=proposed).count() == 3  # one export, untouched


def test_only_the_assignee_writes_the_report(case):
    colleague = f.senior()
    with pytest.raises(CasePermissionError, match="Only the assignee"):
        services.sar_draft(case=case, actor=colleague)
    services.sar_draft(case=case, actor=case.assignee)
    with pytest.raises(CasePermissionError, match="Only the assignee"):
        services.sar_edit(case=case, actor=colleague, reason="Mine now.", action="")
    with pytest.raises(CasePermissionError, match="Only the assignee"):
        services.sar_export(case=case, actor=colleague)
    assert not CaseEvent.objects.filter(case=case, actor=colleague).exists()


def test_approval_of_another_export_than_the_one_proposed_is_refused(proposed):
    with pytest.raises(CaseStateError, match="reviewed the SAR export"):
        services.case_approve_closure(case=proposed, actor=f.senior(), sar_sha256="0" * 64)
    proposed.refresh_from_db()
    assert proposed.status == "pending_approval"


def test_a_sar_exported_again_after_the_proposal_cannot_be_approved(proposed):
    # Given the export was replaced behind the workflow's back (a row written directly)
    first = SarFile.objects.filter(report__case=proposed, format="xml").get()
    SarFile.objects.create(
        report=first.report,
        format="xml",
        filename="replaced.xml",
        size=1,
        sha256="f" * 64,
        file=first.file.name,
        created_by=proposed.assignee,
    )

    # Then no one can approve the closure: the file filed is not the one proposed
    with pytest.raises(CaseStateError, match="exported again"):
        services.case_approve_closure(case=proposed, actor=f.senior())


def test_whoever_wrote_or_exported_the_sar_cannot_approve_it(case):
    # Given a senior investigator wrote and exported the report as its assignee, then the
    # case went to an investigator who proposed closing it as SAR filed
    writer = f.senior()
    case = services.case_assign(case=case, assignee=writer, actor=writer)
    f.exported_sar(case)
    proposer = f.investigator()
    case = services.case_assign(case=case, assignee=proposer, actor=writer)
    case = services.case_propose_closure(
        case=case, actor=proposer, disposition="sar_filed", reason="Structuring."
    )

    # When the writer tries to approve it, they are refused; another senior may
    with pytest.raises(CasePermissionError, match="drafted, edited or exported"):
        services.case_approve_closure(case=case, actor=writer, sar_sha256=_xml_hash(case))
    closed = services.case_approve_closure(case=case, actor=f.senior())
    assert closed.status == "closed"


def test_the_api_approves_only_the_proposed_export(proposed):
    client = APIClient()
    client.force_authenticate(f.senior())
    url = f"/api/v1/cases/{proposed.pk}/approve/"

    assert client.post(url, {"sar_sha256": "not-a-hash"}, format="json").status_code == 400
    refused = client.post(url, {"sar_sha256": "a" * 64}, format="json")
    assert refused.status_code == 409, refused.content
    detail = client.get(f"/api/v1/cases/{proposed.pk}/").json()
    assert detail["proposed_sar_sha256"] == _xml_hash(proposed)
    approved = client.post(url, {"sar_sha256": detail["proposed_sar_sha256"]}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "closed"


# --- A case in several currencies ----------------------------------------------------------------


@pytest.fixture
def euro_case():
    """A case of a partner reporting in euros, over payments in dollars, pounds and euros."""
    from cases.models import Case

    partner = PartnerBankFactory(slug="euro-bank", name="Euro Bank", reporting_currency="EUR")
    f.a_rule(code="big_amount", typologies=["structuring"])
    f.ingest_and_score(
        partner,
        f.payment(amount="12500.00", currency="USD"),
        f.payment(amount="8000.00", currency="GBP"),
        f.payment(amount="1000.00", currency="EUR"),
    )
    return services.case_claim(case=Case.objects.get(), actor=f.investigator("ana"))


def _ecb_rates_of_yesterday() -> str:
    """The ECB's day file layout, for yesterday: today's payments use it (a day old)."""
    day = (timezone.now() - timedelta(days=1)).astimezone(UTC).date()
    exchange_rates_import(text=f"Date, USD, GBP, \n{day:%d %B %Y}, 1.2500, 0.80000, \n")
    return day.isoformat()


def test_a_case_in_three_currencies_exports_with_its_rates_named_and_closes_as_filed(euro_case):
    day = _ecb_rates_of_yesterday()

    case = f.exported_sar(euro_case)

    files = {row.format: row.file.open("rb").read() for row in SarFile.objects.all()}
    validate_xml(files["xml"])
    root = etree.fromstring(files["xml"])
    assert root.findtext("currency_code_local") == "EUR"
    converted = {
        tx.findtext("transactionnumber"): (tx.findtext("amount_local"), tx.findtext("comments"))
        for tx in root.findall("transaction")
    }
    usd, gbp, eur = (converted[tx.external_id] for tx in euro_case_transactions(case))
    assert usd[0] == "10000.00" and usd[1].endswith(f"Converted at 0.8 EUR per USD (ecb, {day})")
    assert gbp[0] == "10000.00" and gbp[1].endswith(f"Converted at 1.25 EUR per GBP (ecb, {day})")
    assert eur[0] == "1000.00" and "Converted" not in eur[1]
    summary = json.loads(files["json"])["summary"]
    assert summary["total_local"] == "21000.00"
    assert [(r["currency"], r["rate"], r["date"]) for r in summary["exchange_rates"]] == [
        ("GBP", "1.25", day),
        ("USD", "0.8", day),
    ]
    assert b"%PDF" in files["pdf"][:8]

    # And the closure as filed goes through the four-eyes flow to closed
    case = services.case_propose_closure(
        case=case, actor=case.assignee, disposition="sar_filed", reason="Structuring."
    )
    closed = services.case_approve_closure(case=case, actor=f.senior(), sar_sha256=_xml_hash(case))
    assert (closed.status, closed.disposition) == ("closed", "sar_filed")


def euro_case_transactions(case):
    from cases import selectors

    return list(selectors.transactions_of(case).order_by("occurred_at", "id"))


def test_without_rates_the_export_names_the_missing_one_and_works_once_they_are_stored(euro_case):
    services.sar_draft(case=euro_case, actor=euro_case.assignee)
    services.sar_edit(case=euro_case, actor=euro_case.assignee, reason="Structuring.", action="")
    _registered(euro_case.partner)

    with pytest.raises(ValidationError) as refused:
        services.sar_export(case=euro_case, actor=euro_case.assignee)
    problems = " ".join(refused.value.message_dict["sar"])
    assert "no stored USD→EUR exchange rate" in problems
    assert "no stored GBP→EUR exchange rate" in problems
    assert not SarFile.objects.exists()

    # The draft made without rates converts with the rates stored since
    _ecb_rates_of_yesterday()
    files = services.sar_export(case=euro_case, actor=euro_case.assignee)
    xml = next(row for row in files if row.format == "xml").file.open("rb").read()
    assert etree.fromstring(xml).findtext("transaction[1]/amount_local") == "10000.00"
