"""The party page: a name against the lists, each match explained, and "not this person"
asked by one person and approved by another, in the browser's forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.engine import load_lists
from rules.models import RuleList
from rules.tests.factories import investigator, officer
from sentinel.audit.models import AuditEvent
from sentinel.screening.models import FalsePositive
from sentinel.screening.services import screening_list_import

FIXTURES = Path(__file__).parent / "fixtures"
NAME = "Youssef Ebrahim Alamri"
URL = "/screening/party/"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_screening_index")]


@pytest.fixture
def sdn():
    return screening_list_import(
        list_name="OFAC SDN", source="ofac_sdn", content=(FIXTURES / "ofac_sdn.xml").read_bytes()
    )


def test_a_party_is_shown_with_its_matches_explained(client, sdn):
    client.force_login(investigator())

    page = client.get(URL, {"name": NAME, "country": "YE"}).content.decode()

    assert 'data-entry-id="' in page and "#10001" in page
    assert "youssef=yusuf phonetic 90" in page
    assert "Ask for a false positive" in page


def test_bad_input_is_refused_and_changes_nothing(client, sdn):
    client.force_login(investigator())

    response = client.get(URL, {"name": NAME, "country": "yemen"})

    assert response.status_code == 400
    assert "two capital letters" in response.content.decode()
    entry_id = sdn.changes.get(entry__source_id="10001").entry_id
    refused = client.post(f"/screening/entries/{entry_id}/false-positive/", {"name": NAME})
    assert refused.status_code == 302
    assert not FalsePositive.objects.exists()


def test_one_asks_another_approves_and_the_match_is_gone(
    client, sdn, django_capture_on_commit_callbacks
):
    # Given an investigator who asks, with a reason
    asker, approver = investigator(), officer()
    entry_id = sdn.changes.get(entry__source_id="10001").entry_id
    client.force_login(asker)
    client.post(
        f"/screening/entries/{entry_id}/false-positive/",
        {"name": NAME, "country": "YE", "reason": "Born 1990 in Sana'a; the entry is born 1961"},
    )
    decision = FalsePositive.objects.get()
    assert (decision.requested_by, decision.approved_by) == (asker, None)
    page = client.get(URL, {"name": NAME, "country": "YE"}).content.decode()
    assert "awaiting another person" in page and "#10001" in page  # still matches

    # When the asker tries to approve, nothing changes; when another approves, it takes effect
    client.post(f"/screening/false-positives/{decision.pk}/approve/")
    decision.refresh_from_db()
    assert decision.approved_by is None
    client.force_login(approver)
    with django_capture_on_commit_callbacks(execute=True):  # every process reloads its index
        client.post(f"/screening/false-positives/{decision.pk}/approve/")
    response = client.get(URL, {"name": NAME, "country": "YE"})

    decision.refresh_from_db()
    assert decision.approved_by == approver
    page = response.content.decode()
    assert 'id="no-matches"' in page and "Approved:" in page
    assert f"by {approver.username}" in page


def test_who_may_not_read_gets_403(client, django_user_model, sdn):
    client.force_login(django_user_model.objects.create_user("nobody", is_staff=True))
    assert client.get(URL, {"name": NAME}).status_code == 403


def test_the_decision_and_its_approval_are_in_the_audit_trail(
    client, sdn, django_capture_on_commit_callbacks
):
    asker, approver = investigator("ivy"), officer("olga")
    entry_id = sdn.changes.get(entry__source_id="10001").entry_id
    client.force_login(asker)
    client.post(
        f"/screening/entries/{entry_id}/false-positive/",
        {"name": NAME, "country": "YE", "reason": "Born 1990"},
    )
    decision = FalsePositive.objects.get()
    client.force_login(approver)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/screening/false-positives/{decision.pk}/approve/")

    asked, approved = AuditEvent.objects.filter(model="screening.falsepositive").order_by("id")
    assert (asked.action, asked.actor_username, asked.after["reason"]) == (
        "insert",
        "ivy",
        "Born 1990",
    )
    assert (approved.action, approved.actor_username) == ("update", "olga")
    assert approved.after["approved_by_id"] == approver.pk
    assert AuditEvent.objects.filter(model="screening.listimport", action="insert").exists()


def test_an_officer_puts_a_true_match_on_a_name_list_and_the_rule_engine_sees_it(client, sdn):
    # Given the shipped name list the sanctions_name_match rule reads
    sanctions = RuleList.objects.get(name="sanctions")
    entry_id = sdn.changes.get(entry__source_id="10001").entry_id
    client.force_login(officer())

    client.post(
        f"/screening/entries/{entry_id}/true-match/",
        {"name": NAME, "country": "YE", "rule_list": sanctions.pk},
    )

    (listed,) = sanctions.entries.all()
    assert listed.value == NAME and "True match to OFAC SDN #10001" in listed.note
    # matched as the rules match names: whatever the case, spacing or word order
    assert load_lists({"sanctions"}).contains("sanctions", "ALAMRI youssef  ebrahim")


def test_an_investigator_may_not_edit_the_rule_engines_lists(client, sdn):
    sanctions = RuleList.objects.get(name="sanctions")
    entry_id = sdn.changes.get(entry__source_id="10001").entry_id
    client.force_login(investigator())

    response = client.post(
        f"/screening/entries/{entry_id}/true-match/",
        {"name": NAME, "rule_list": sanctions.pk},
        follow=True,
    )

    assert "Only compliance officers" in response.content.decode()
    assert not sanctions.entries.exists()


def test_the_bare_page_is_a_form_and_a_forged_list_choice_is_refused(client, sdn):
    client.force_login(officer())
    assert client.get(URL).status_code == 200
    entry_id = sdn.changes.get(entry__source_id="10001").entry_id

    response = client.post(
        f"/screening/entries/{entry_id}/true-match/",
        {"name": NAME, "rule_list": "abc"},
        follow=True,
    )

    assert "choose a list of names" in response.content.decode()
    assert not RuleList.objects.get(name="sanctions").entries.exists()
