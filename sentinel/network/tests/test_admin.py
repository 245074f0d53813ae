"""The findings and rings in the admin: read-only, naming the ring's members."""

from __future__ import annotations

from datetime import UTC, datetime

from rules.tests.factories import investigator, officer
from sentinel.audit.models import AuditEvent
from sentinel.network import governance
from sentinel.network.choices import PatternKind
from sentinel.network.models import (
    NetworkPattern,
    ParameterChange,
    ParametersInForce,
    ParameterVersion,
)
from sentinel.network.tests.factories import parameter_version, parameters_in_force
from sentinel.network.tests.graph import send, transfer


def test_a_found_ring_is_listed_with_its_members_and_cannot_be_edited(admin_client, partner):
    ids = send(
        partner,
        transfer("A", "B", "9000.00", hours=0),
        transfer("B", "C", "8800.00", hours=5),
        transfer("C", "A", "8700.00", hours=9),
    )

    listing = admin_client.get("/admin/network/networkfinding/")
    detail = admin_client.get(f"/admin/network/networkfinding/{ids[2]}/change/")

    assert listing.status_code == 200 and str(ids[2]) in listing.content.decode()
    assert detail.status_code == 200
    assert "A, B, C" in detail.content.decode()
    assert b'name="_save"' not in detail.content


def test_a_window_ring_is_listed_with_its_members_and_cannot_be_edited(admin_client, partner):
    pattern = NetworkPattern.objects.create(
        partner=partner,
        kind=PatternKind.FAN_IN,
        hub="HUB",
        members=["HUB", "P1", "P2"],
        transactions=[],
        first_at=datetime(2026, 1, 5, tzinfo=UTC),
        last_at=datetime(2026, 1, 6, tzinfo=UTC),
    )

    listing = admin_client.get("/admin/network/networkpattern/")
    detail = admin_client.get(f"/admin/network/networkpattern/{pattern.pk}/change/")

    assert listing.status_code == 200 and "HUB" in listing.content.decode()
    assert "HUB, P1, P2" in detail.content.decode()
    assert b'name="_save"' not in detail.content


# --- Detector parameters: drafted, asked for and approved in the admin ------------------------

VERSIONS = "/admin/network/parameterversion/"


def _form(**overrides) -> dict:
    return {**ParametersInForce.objects.get(pk=1).version.values(), "comment": "", **overrides}


def test_officers_draft_ask_and_approve_parameters_in_the_admin_and_the_trail_has_each_step(
    client,
):
    # Given two compliance officers
    olga, omar = officer("olga"), officer("omar")
    client.force_login(olga)

    # When Olga opens the form, it starts from the version in force
    page = client.get(f"{VERSIONS}add/").content.decode()
    assert 'name="max_hops" value="12"' in page

    # A value out of range or no reason is refused, saying why, and saves nothing
    refused = client.post(f"{VERSIONS}add/", _form(max_hops=40, comment="Deeper"))
    assert refused.status_code == 200
    assert "At most 16: each hop more costs every batch one query" in refused.content.decode()
    assert "This field is required" in client.post(f"{VERSIONS}add/", _form()).content.decode()
    assert ParameterVersion.objects.count() == 1

    # She saves a draft with a 2-day round trip, and its page shows what differs
    saved = client.post(f"{VERSIONS}add/", _form(round_trip_days=2, comment="Faster trips"))
    version = ParameterVersion.objects.get(number=2)
    assert saved.url == f"{VERSIONS}{version.pk}/change/"
    page = client.get(saved.url).content.decode()
    assert "<td>round trip days</td><td>7</td><td><strong>2</strong></td>" in page
    assert "Request to put this version in force" in page

    # She asks for it; her own approval is refused
    client.post(f"/admin/network/parameterversion/{version.pk}/request/", {"comment": "Test"})
    change = ParameterChange.objects.get()
    client.post(f"{VERSIONS}change/{change.pk}/approve/", {})
    assert ParametersInForce.objects.get(pk=1).version.number == 1
    page = client.get(saved.url).content.decode()
    assert "Another compliance officer must approve it." in page

    # Omar approves
    client.force_login(omar)
    assert 'value="Approve"' in client.get(saved.url).content.decode()
    client.post(f"{VERSIONS}change/{change.pk}/approve/", {"comment": "Seen"})
    assert ParametersInForce.objects.get(pk=1).version == version

    # And the audit trail names who did each step
    trail = [
        (event.model, event.action, event.actor_username)
        for event in AuditEvent.objects.filter(model__startswith="network.").order_by("id")
    ]
    assert trail == [
        ("network.parameterversion", "insert", "olga"),
        ("network.parameterchange", "insert", "olga"),
        ("network.parametersinforce", "update", "omar"),
        ("network.parameterchange", "update", "omar"),
    ]


def test_the_version_list_marks_the_one_in_force_and_investigators_only_look(client):
    parameters_in_force(max_hops=6)
    client.force_login(investigator("ivan"))

    listing = client.get(VERSIONS)
    version = ParameterVersion.objects.get(number=2)
    detail = client.get(f"{VERSIONS}{version.pk}/change/").content.decode()

    assert listing.status_code == 200 and "icon-yes.svg" in listing.content.decode()
    assert "In force" in detail and "Request roll back to version 1" not in detail
    assert client.get(f"{VERSIONS}add/").status_code == 403
    assert client.get("/admin/network/parameterchange/").status_code == 200
    client.post("/admin/network/parameterversion/rollback/", {})
    assert not ParameterChange.objects.filter(state="pending").exists()


def test_a_rollback_is_asked_from_the_version_in_force(client):
    parameters_in_force(max_hops=6)
    client.force_login(officer("olga"))
    version = ParameterVersion.objects.get(number=2)

    page = client.get(f"{VERSIONS}{version.pk}/change/").content.decode()
    client.post("/admin/network/parameterversion/rollback/", {"comment": "Too many"})

    assert "Request roll back to version 1" in page
    change = ParameterChange.objects.get(state="pending")
    assert (change.action, change.version.number) == ("rollback", 1)


def test_an_unknown_decision_is_a_bad_request(admin_client):
    change = governance.parameter_change_request(
        version=parameter_version(max_hops=6), actor=officer()
    )

    response = admin_client.post(f"{VERSIONS}change/{change.pk}/approve-all/", {})

    assert response.status_code == 400
