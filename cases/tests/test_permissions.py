"""Every case action for every group, through the API (the pages use the same map, tested in
test_views.py), and no partner key anywhere near the staff endpoints."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from cases import services
from cases.choices import CaseStatus
from cases.permissions import Action, allowed_actions
from sentinel.roles import ADMINISTRATOR, COMPLIANCE_OFFICER, INVESTIGATOR, SENIOR_INVESTIGATOR

from . import factories as f

pytestmark = pytest.mark.django_db

WORK = {"view", "claim", "start", "note", "attach", "tag", "propose_closure", "report"}
EXPECTED = {
    INVESTIGATOR: WORK,
    SENIOR_INVESTIGATOR: {*WORK, "assign", "approve_closure", "send_back"},
    COMPLIANCE_OFFICER: {"view"},
    ADMINISTRATOR: {"view"},
    None: set(),
}


@pytest.mark.parametrize("group", list(EXPECTED))
def test_the_permission_map_gives_each_group_its_actions(group):
    assert allowed_actions(f.member(group)) == EXPECTED[group]


def _pending(**fields):
    proposer = f.senior()
    case = f.exported_sar(f.case(status=CaseStatus.INVESTIGATING, assignee=proposer, **fields))
    return services.case_propose_closure(
        case=case, actor=proposer, disposition="sar_filed", reason="Layering."
    )


def _request(action: str, user):
    """(method, path, data, format) of the action, on a case in the state it needs."""
    if action == "view":
        return "get", "/api/v1/cases/", None, None
    if action == "claim":
        return "post", f"/api/v1/cases/{f.case().pk}/claim/", {}, "json"
    if action == "start":
        return "post", f"/api/v1/cases/{f.case(assignee=user).pk}/start/", {}, "json"
    if action == "note":
        return "post", f"/api/v1/cases/{f.case().pk}/notes/", {"body": "Seen."}, "json"
    if action == "attach":
        upload = SimpleUploadedFile("memo.txt", b"call notes", content_type="text/plain")
        return "post", f"/api/v1/cases/{f.case().pk}/attachments/", {"file": upload}, "multipart"
    if action == "tag":
        return "post", f"/api/v1/cases/{f.case().pk}/tags/", {"add": ["pep"]}, "json"
    if action == "propose_closure":
        case = f.case(status=CaseStatus.INVESTIGATING, assignee=user, severity="low")
        body = {"disposition": "no_action", "reason": "Payroll."}
        return "post", f"/api/v1/cases/{case.pk}/propose-closure/", body, "json"
    if action == "assign":
        body = {"assignee": f.investigator().username}
        return "post", f"/api/v1/cases/{f.case().pk}/assign/", body, "json"
    if action == "approve_closure":
        return "post", f"/api/v1/cases/{_pending().pk}/approve/", {}, "json"
    if action == "report":  # the assignee writes the case's report
        case = f.case(status=CaseStatus.INVESTIGATING, assignee=user)
        return "post", f"/api/v1/cases/{case.pk}/sar/draft/", {}, "json"
    if action == "send_back":
        body = {"comment": "More evidence."}
        return "post", f"/api/v1/cases/{_pending().pk}/send-back/", body, "json"
    raise AssertionError(action)


@pytest.mark.parametrize("group", list(EXPECTED))
@pytest.mark.parametrize("action", [str(a) for a in Action])
def test_every_action_is_allowed_or_refused_per_group_by_the_api(group, action):
    # Given a member of the group and a case in the state the action needs
    user = f.member(group)
    method, path, data, form = _request(action, user)
    client = APIClient()
    client.force_authenticate(user)

    # When they try it
    response = (
        getattr(client, method)(path, data, format=form) if data is not None else (client.get(path))
    )

    # Then the group decides: 200, or 403 with the contract's error
    if action in EXPECTED[group]:
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "permission_denied"


def _staff_endpoints(case_id: int) -> list[tuple[str, str]]:
    base = f"/api/v1/cases/{case_id}"
    return [
        ("get", "/api/v1/cases/"),
        ("get", f"{base}/"),
        ("post", "/api/v1/cases/claim-next/"),
        ("post", "/api/v1/cases/bulk-assign/"),
        *(
            ("post", f"{base}/{name}/")
            for name in (
                "claim",
                "start",
                "assign",
                "team",
                "notes",
                "attachments",
                "tags",
                "propose-closure",
                "approve",
                "send-back",
                "sar/draft",
                "sar/edit",
                "sar/export",
            )
        ),
        ("get", f"{base}/attachments/1/"),
        ("get", f"{base}/sar/"),
        ("get", f"{base}/sar/files/1/"),
    ]


def test_a_partner_key_reaches_no_staff_case_endpoint(partner_client):
    # Given a partner with a valid key, and a case of that very partner
    client = partner_client()
    case = f.case(partner=client.partner)

    # When it calls every staff case endpoint with correctly signed requests
    for method, path in _staff_endpoints(case.pk):
        response = getattr(client, method)(path, {} if method == "post" else None)

        # Then each one refuses it
        assert response.status_code == 403, (method, path, response.status_code)
    assert case.events.count() == 1  # only "opened": nothing happened


def test_anonymous_requests_are_refused_everywhere():
    case = f.case()
    client = APIClient()
    for method, path in _staff_endpoints(case.pk):
        response = getattr(client, method)(path)
        assert response.status_code == 401, (method, path)
