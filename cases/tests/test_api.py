"""The staff case API: lists and filters, the detail a regulator would read, and actions that
answer the domain's errors with the contract's status codes."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from alerts.api.serializers import AlertSerializer
from alerts.models import Alert
from cases import services
from cases.choices import CaseStatus
from cases.models import Case
from rules.tests.factories import only_these_rules
from transactions.tests.factories import PartnerBankFactory

from . import factories as f

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.default_format = "json"
    client.force_authenticate(user)
    return client


@pytest.fixture
def scored():
    """A case opened by scoring a real transaction (so it has hits and explanations)."""
    partner = PartnerBankFactory(slug="acme")
    rule = f.a_rule(severity="high", typologies=["large_cash"], code="big_amount")
    only_these_rules(rule)
    f.ingest_and_score(partner, f.payment(amount="5000.00"))
    return Case.objects.get()


def test_the_list_carries_the_queue_fields(scored):
    body = _client(f.investigator()).get("/api/v1/cases/").json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert row["id"] == scored.pk
    assert row["subject"] == {"partner": "acme", "customer_id": "C1", "account_id": "A1"}
    assert (row["status"], row["severity"], row["assignee"]) == ("open", "high", None)
    assert (row["alert_count"], row["rules"], row["sla_state"]) == (1, ["big_amount"], "on_time")


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("subject=A1", True),
        ("subject=C1", True),
        ("subject=A2", False),
        ("status=open", True),
        ("status=closed", False),
        ("severity=high", True),
        ("severity=low", False),
        ("rule=big_amount", True),
        ("rule=other", False),
        ("partner=acme", True),
        ("partner=other", False),
        ("typology=large_cash", True),
        ("typology=structuring", False),
        ("sla=on_time", True),
        ("sla=overdue", False),
        ("assignee=none", True),
        ("assignee=me", False),
        ("min_priority=1&max_priority=1750", True),
        ("min_priority=1751", False),
    ],
)
def test_the_contract_filters(scored, query, found):
    body = _client(f.investigator()).get(f"/api/v1/cases/?{query}").json()
    assert bool(body["results"]) is found


def test_a_bad_filter_is_a_400():
    response = _client(f.investigator()).get("/api/v1/cases/?severity=huge")
    assert response.status_code == 400
    assert "severity" in response.json()["error"]["fields"]


def test_the_detail_shows_alerts_transactions_and_explanations(scored):
    body = _client(f.officer()).get(f"/api/v1/cases/{scored.pk}/").json()

    (alert,) = body["alerts"]
    assert alert["case_id"] == scored.pk
    (tx,) = body["transactions"]
    assert (tx["amount"], tx["currency"]) == ("5000.0000", "USD")
    (hit,) = tx["hits"]
    assert hit["rule"] == "big_amount" and hit["explanation"]
    assert [e["type"] for e in body["events"]] == ["opened"]


def test_the_alert_api_and_websocket_object_carry_the_case_id(scored):
    alert = Alert.objects.get()
    assert AlertSerializer(alert).data["case_id"] == scored.pk
    listed = _client(f.investigator()).get("/api/v1/alerts/").json()["results"]
    assert listed[0]["case_id"] == scored.pk


def test_the_workflow_through_the_api_with_versions(scored):
    investigator = f.investigator()
    worker, lead = _client(investigator), _client(f.senior())

    claimed = worker.post(f"/api/v1/cases/{scored.pk}/claim/", {"version": 1}, format="json")
    assert claimed.status_code == 200
    assert (claimed.json()["status"], claimed.json()["version"]) == ("investigating", 2)
    stale = worker.post(f"/api/v1/cases/{scored.pk}/notes/", {"body": "x", "version": 1})
    assert stale.status_code == 409
    assert "changed since you loaded it" in stale.json()["error"]["message"]

    note = worker.post(f"/api/v1/cases/{scored.pk}/notes/", {"body": "<script>x</script> **ok**"})
    assert "<script>" not in note.json()["notes"][0]["html"]
    no_report = worker.post(
        f"/api/v1/cases/{scored.pk}/propose-closure/",
        {"disposition": "sar_filed", "reason": "Structuring."},
        format="json",
    )
    assert no_report.status_code == 409
    assert "suspicious-activity report" in no_report.json()["error"]["message"]
    f.exported_sar(scored, investigator)
    proposed = worker.post(
        f"/api/v1/cases/{scored.pk}/propose-closure/",
        {"disposition": "sar_filed", "reason": "Structuring."},
        format="json",
    )
    assert proposed.json()["status"] == "pending_approval"
    approved = lead.post(f"/api/v1/cases/{scored.pk}/approve/", {"comment": "Agreed."})
    assert (approved.json()["status"], approved.json()["disposition"]) == ("closed", "sar_filed")


def test_illegal_actions_answer_409_and_403_with_the_reason():
    case = f.case()
    worker = f.investigator()
    response = _client(worker).post(
        f"/api/v1/cases/{case.pk}/propose-closure/",
        {"disposition": "no_action", "reason": "x"},
        format="json",
    )
    assert response.status_code == 409
    assert "unassigned case cannot be closed" in response.json()["error"]["message"]

    proposer = f.senior()
    pending = f.case(customer="C2", status=CaseStatus.INVESTIGATING, assignee=proposer)
    pending = f.exported_sar(pending)
    services.case_propose_closure(case=pending, actor=proposer, disposition="sar_filed", reason="x")
    own = _client(proposer).post(f"/api/v1/cases/{pending.pk}/approve/", {})
    assert own.status_code == 403
    assert "another senior investigator" in own.json()["error"]["message"]
    assert Case.objects.get(pk=pending.pk).status == "pending_approval"


def test_bad_input_answers_400():
    case = f.case(status=CaseStatus.INVESTIGATING)
    client = _client(case.assignee)
    unknown = client.post(f"/api/v1/cases/{case.pk}/notes/", {"body": "x", "colour": "red"})
    assert unknown.json()["error"]["fields"] == {"colour": ["Unknown field."]}
    bad = client.post(
        f"/api/v1/cases/{case.pk}/propose-closure/", {"disposition": "maybe", "reason": "x"}
    )
    assert bad.status_code == 400
    send_back = _client(f.senior()).post(f"/api/v1/cases/{case.pk}/send-back/", {"comment": ""})
    assert send_back.status_code == 400


def test_claim_next_and_bulk_assign():
    partner = PartnerBankFactory()
    first = f.case(partner=partner, customer="C1", priority=1200)
    second = f.case(partner=partner, customer="C2", priority=400)
    worker = f.investigator()

    claimed = _client(worker).post("/api/v1/cases/claim-next/")
    assert claimed.json()["id"] == first.pk
    result = _client(f.senior()).post(
        "/api/v1/cases/bulk-assign/",
        {"case_ids": [first.pk, second.pk], "assignee": worker.username},
        format="json",
    )
    assert result.json() == {"assigned": [first.pk, second.pk], "skipped": {}}
    assert _client(f.investigator()).post("/api/v1/cases/claim-next/").status_code == 204


def test_attachments_upload_and_download_with_checks():
    case = f.case()
    client = _client(f.investigator())
    upload = SimpleUploadedFile("bank.pdf", b"%PDF-1.7 statement", content_type="application/pdf")
    path = f"/api/v1/cases/{case.pk}/attachments/"
    body = client.post(path, {"file": upload}, format="multipart").json()
    (stored,) = body["attachments"]
    assert (stored["filename"], stored["size"]) == ("bank.pdf", 18)

    download = client.get(f"/api/v1/cases/{case.pk}/attachments/{stored['id']}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.7 statement"
    assert download["Content-Disposition"].startswith("attachment")

    fake = SimpleUploadedFile("evil.pdf", b"<html><script>", content_type="application/pdf")
    refused = client.post(path, {"file": fake}, format="multipart")
    assert refused.status_code == 400
    assert "not PDF" in str(refused.json()["error"]["fields"])


def test_the_list_costs_a_bounded_number_of_queries(django_assert_max_num_queries):
    partner, rule = PartnerBankFactory(), f.a_rule()
    f.many_cases(120, partner=partner, rule=rule)
    client = _client(f.investigator())
    with django_assert_max_num_queries(8):  # user, permissions, count, page, alert summary
        response = client.get("/api/v1/cases/?page_size=100")
    assert len(response.json()["results"]) == 100


def test_routing_to_a_team_and_filtering_by_it():
    case, cards = f.case(), f.team("Cards")
    lead = _client(f.senior())
    routed = lead.post(f"/api/v1/cases/{case.pk}/team/", {"team": "cards"})
    assert routed.json()["team"] == cards.slug
    assert [c["id"] for c in lead.get("/api/v1/cases/?team=cards").json()["results"]] == [case.pk]
    unknown = lead.post(f"/api/v1/cases/{case.pk}/team/", {"team": "nope"})
    assert unknown.status_code == 400


def test_the_list_is_highest_priority_first_unless_ordered():
    partner = PartnerBankFactory()
    low = f.case(partner=partner, customer="C1", priority=300)
    high = f.case(partner=partner, customer="C2", priority=1500)
    client = _client(f.investigator())
    assert [c["id"] for c in client.get("/api/v1/cases/").json()["results"]] == [high.pk, low.pk]
    by_id = client.get("/api/v1/cases/?ordering=id").json()["results"]
    assert [c["id"] for c in by_id] == [low.pk, high.pk]
