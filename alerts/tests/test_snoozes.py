"""Snoozes: a rule silenced on one subject for a bounded time, audited, lifted early."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone
from rest_framework.test import APIClient

from alerts import services
from alerts.models import Alert, Snooze, SnoozedHit
from alerts.tests.test_services import (
    ingest_and_score,
    investigator,
    staff,
)
from rules.tests import factories
from sentinel.testing import logged_in
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/snoozes/"


@pytest.fixture
def partner():
    return PartnerBankFactory(slug="first-bank")


@pytest.fixture
def rule():
    rule = factories.rule(code="big_amount", expression="amount >= 1000")
    factories.only_these_rules(rule)
    return rule


def _snooze(rule, partner, *, days: float = 30, account: str = "A1", actor=None) -> Snooze:
    return services.snooze_create(
        rule=rule,
        partner=partner,
        account_external_id=account,
        ends_at=timezone.now() + timedelta(days=days),
        comment="Monthly payroll from the employer, verified with the relationship manager.",
        actor=actor or investigator(),
    )


# --- Services ---------------------------------------------------------------------------------


def test_hits_during_a_snooze_are_recorded_but_raise_no_alert(alerts_wired, rule, partner):
    snooze = _snooze(rule, partner)

    ids = ingest_and_score(partner, transaction_payload(amount="5000.00"))

    assert not Alert.objects.exists()
    assert list(SnoozedHit.objects.values_list("snooze", "transaction_id")) == [(snooze.pk, ids[0])]


def test_a_snooze_silences_only_its_rule_and_subject(alerts_wired, rule, partner):
    other_rule = factories.rule(code="any_amount", expression="amount > 0")
    factories.only_these_rules(rule, other_rule)
    _snooze(rule, partner)

    ingest_and_score(partner, transaction_payload(amount="5000.00"))
    ingest_and_score(
        partner, transaction_payload(amount="5000.00", originator={"account_id": "A2"})
    )

    alerted = set(Alert.objects.values_list("rule__code", "account_external_id"))
    assert alerted == {("any_amount", "A1"), ("big_amount", "A2"), ("any_amount", "A2")}


def test_a_lifted_snooze_lets_the_rule_alert_again(alerts_wired, rule, partner):
    snooze = _snooze(rule, partner)
    lifter = investigator()

    lifted = services.snooze_lift(snooze=snooze, actor=lifter, comment="Payroll stopped.")
    ingest_and_score(partner, transaction_payload(amount="5000.00"))

    assert (lifted.lifted_by, lifted.lift_comment, lifted.is_active) == (
        lifter,
        "Payroll stopped.",
        False,
    )
    assert Alert.objects.count() == 1
    assert not SnoozedHit.objects.exists()


def test_an_ended_snooze_no_longer_silences(alerts_wired, rule, partner):
    snooze = _snooze(rule, partner)
    Snooze.objects.filter(pk=snooze.pk).update(
        created_at=timezone.now() - timedelta(days=10), ends_at=timezone.now() - timedelta(days=1)
    )
    ingest_and_score(partner, transaction_payload(amount="5000.00"))
    assert Alert.objects.count() == 1


@pytest.mark.parametrize(
    ("ends_in", "comment", "field", "message"),
    [
        (timedelta(days=181), "why", "ends_at", "at most 180 days"),
        (timedelta(seconds=-1), "why", "ends_at", "must be in the future"),
        (timedelta(days=1), "   ", "comment", "A comment is required"),
        (timedelta(days=1), "x" * 2001, "comment", "At most 2000"),
    ],
)
def test_bad_snoozes_are_refused_and_nothing_is_stored(
    rule, partner, ends_in, comment, field, message
):
    with pytest.raises(ValidationError) as error:
        services.snooze_create(
            rule=rule,
            partner=partner,
            account_external_id="A1",
            ends_at=timezone.now() + ends_in,
            comment=comment,
            actor=investigator(),
        )
    assert message in error.value.message_dict[field][0]
    assert not Snooze.objects.exists()


def test_a_subject_already_snoozed_cannot_be_snoozed_twice(rule, partner):
    first = _snooze(rule, partner)
    with pytest.raises(services.SnoozeStateError, match=f"snooze #{first.pk}"):
        _snooze(rule, partner, days=5)
    assert Snooze.objects.count() == 1


def test_lifting_twice_is_refused(rule, partner):
    snooze = services.snooze_lift(snooze=_snooze(rule, partner), actor=investigator())
    with pytest.raises(services.SnoozeStateError, match="already lifted"):
        services.snooze_lift(snooze=snooze, actor=investigator())


def test_only_people_allowed_to_snooze_can(rule, partner):
    with pytest.raises(PermissionDenied):
        _snooze(rule, partner, actor=staff("view_snooze"))
    snooze = _snooze(rule, partner)
    with pytest.raises(PermissionDenied):
        services.snooze_lift(snooze=snooze, actor=staff("view_snooze", "add_snooze"))


def test_the_database_refuses_a_snooze_over_180_days(rule, partner):
    now = timezone.now()
    with pytest.raises(IntegrityError), db_transaction.atomic():
        Snooze.objects.create(
            rule=rule,
            partner=partner,
            account_external_id="A1",
            comment="why",
            created_by=investigator(),
            created_at=now,
            ends_at=now + timedelta(days=181),
        )


# --- API --------------------------------------------------------------------------------------


def test_an_investigator_snoozes_lists_and_lifts_through_the_api(rule, partner):
    api = logged_in(investigator(), APIClient)

    created = api.post(
        URL,
        {
            "rule": "big_amount",
            "partner": "first-bank",
            "account_id": "A1",
            "days": 30,
            "comment": "Known payroll.",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["rule"], body["account_id"], body["active"], body["hits_silenced"]) == (
        "big_amount",
        "A1",
        True,
        0,
    )
    assert [row["id"] for row in api.get(URL, {"active": "true"}).json()["results"]] == [body["id"]]

    lifted = api.post(f"{URL}{body['id']}/lift/", {"comment": "Done."}, format="json")
    assert lifted.status_code == 200
    assert lifted.json()["active"] is False
    assert api.get(URL, {"active": "true"}).json()["results"] == []
    again = api.post(f"{URL}{body['id']}/lift/", {}, format="json")
    assert again.status_code == 409
    assert "already lifted" in again.json()["error"]["message"]


def test_an_alert_is_snoozed_from_its_own_page(alerts_wired, rule, partner):
    ingest_and_score(partner, transaction_payload(amount="5000.00"))
    alert = Alert.objects.get()
    api = logged_in(investigator(), APIClient)

    response = api.post(
        f"/api/v1/alerts/{alert.pk}/snooze/",
        {"ends_at": (timezone.now() + timedelta(days=7)).isoformat(), "comment": "Payroll."},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["rule"], response.json()["account_id"]) == ("big_amount", "A1")
    conflict = api.post(
        f"/api/v1/alerts/{alert.pk}/snooze/", {"days": 1, "comment": "Again."}, format="json"
    )
    assert conflict.status_code == 409


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"rule": "nope", "partner": "first-bank", "account_id": "A1", "days": 1}, "rule"),
        ({"rule": "big_amount", "partner": "first-bank", "account_id": "A1", "days": 181}, "days"),
        ({"rule": "big_amount", "partner": "first-bank", "account_id": "A1"}, "ends_at"),
        (
            {
                "rule": "big_amount",
                "partner": "first-bank",
                "account_id": "A1",
                "days": 1,
                "ends_at": "2030-01-01T00:00:00Z",
            },
            "ends_at",
        ),
        (
            {
                "rule": "big_amount",
                "partner": "first-bank",
                "account_id": "A1",
                "days": 1,
                "colour": "red",
            },
            "colour",
        ),
    ],
)
def test_bad_snooze_requests_answer_400_and_store_nothing(rule, partner, payload, field):
    response = logged_in(investigator(), APIClient).post(
        URL, {"comment": "Known payroll.", **payload}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Snooze.objects.exists()


def test_people_who_may_only_look_cannot_snooze(rule, partner):
    viewer = logged_in(staff("view_snooze"), APIClient)
    assert viewer.get(URL).status_code == 200
    response = viewer.post(
        URL,
        {
            "rule": "big_amount",
            "partner": "first-bank",
            "account_id": "A1",
            "days": 1,
            "comment": "x",
        },
        format="json",
    )
    assert response.status_code == 403
    assert APIClient().get(URL).status_code == 401


# --- Four eyes on long snoozes ------------------------------------------------------------------


def _approver():
    return staff("approve_snooze", "view_snooze")


def test_a_snooze_over_30_days_silences_nothing_until_someone_else_approves_it(
    alerts_wired, rule, partner
):
    # Given an investigator snoozes the rule on A1 for 90 days
    asker = investigator()
    snooze = _snooze(rule, partner, days=90, actor=asker)
    assert (snooze.state, snooze.is_active) == ("awaiting_approval", False)

    # Then, until approved, hits still alert
    ingest_and_score(partner, transaction_payload(external_id="t1", amount="5000.00"))
    assert Alert.objects.count() == 1 and not SnoozedHit.objects.exists()

    # When the one who asked tries to approve it (even holding the permission), it is refused
    asker.user_permissions.add(*_approver().user_permissions.all())
    with pytest.raises(PermissionDenied, match="another senior investigator"):
        services.snooze_approve(snooze=snooze, actor=User.objects.get(pk=asker.pk))
    with pytest.raises(PermissionDenied):
        services.snooze_approve(snooze=snooze, actor=investigator())  # no approval right

    # When a second person approves it, it silences from then on
    approved = services.snooze_approve(snooze=snooze, actor=_approver())
    assert approved.state == "in_force" and approved.approved_by is not None
    ingest_and_score(partner, transaction_payload(external_id="t2", amount="5000.00"))
    assert Alert.objects.get().links.count() == 1  # t2 neither raised nor joined an alert
    assert SnoozedHit.objects.filter(snooze=snooze).count() == 1
    with pytest.raises(services.SnoozeStateError, match="not awaiting approval"):
        services.snooze_approve(snooze=snooze, actor=_approver())


def test_a_snooze_of_30_days_or_less_needs_no_approval(rule, partner):
    assert _snooze(rule, partner, days=29).state == "in_force"


def test_a_request_awaiting_approval_blocks_another_and_can_be_withdrawn(rule, partner):
    waiting = _snooze(rule, partner, days=60)
    with pytest.raises(services.SnoozeStateError, match="awaiting approval"):
        _snooze(rule, partner, days=10)

    services.snooze_lift(snooze=waiting, actor=investigator(), comment="Not needed.")

    assert Snooze.objects.get(pk=waiting.pk).state == "lifted"
    assert _snooze(rule, partner, days=10).state == "in_force"


def test_the_database_refuses_a_self_approved_or_a_short_approved_snooze(rule, partner):
    long = _snooze(rule, partner, days=60)
    short = _snooze(rule, partner, days=5, account="A2")
    for snooze, approver in ((long, long.created_by), (short, _approver())):
        with pytest.raises(IntegrityError), db_transaction.atomic():
            Snooze.objects.filter(pk=snooze.pk).update(
                approved_by=approver, approved_at=timezone.now()
            )


def test_long_snoozes_are_approved_through_the_api_and_the_page(rule, partner):
    asker = investigator()
    created = logged_in(asker, APIClient).post(
        URL,
        {
            "rule": "big_amount",
            "partner": "first-bank",
            "account_id": "A1",
            "days": 120,
            "comment": "Known payroll.",
        },
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["state"], body["active"], body["approved_by"]) == (
        "awaiting_approval",
        False,
        None,
    )

    assert logged_in(asker, APIClient).post(f"{URL}{body['id']}/approve/").status_code == 403
    approver = _approver()
    approved = logged_in(approver, APIClient).post(f"{URL}{body['id']}/approve/")
    assert approved.status_code == 200, approved.content
    assert (approved.json()["state"], approved.json()["approved_by"]) == (
        "in_force",
        approver.username,
    )
    assert logged_in(approver, APIClient).post(f"{URL}{body['id']}/approve/").status_code == 409

    # The page path: another long snooze on A2, approved from the snooze's approve form
    second = _snooze(rule, partner, days=45, account="A2", actor=asker)
    page = logged_in(_approver(), APIClient).post(f"/alerts/snoozes/{second.pk}/approve/")
    assert page.status_code == 302
    assert Snooze.objects.get(pk=second.pk).state == "in_force"

    assert APIClient().get(URL).status_code in (401, 403)


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/login", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_lifting_a_snooze_never_redirects_off_the_site(rule, partner, next_url):
    # Given a crafted form that lifts a snooze with `next` pointing elsewhere
    snooze = _snooze(rule, partner)
    browser = logged_in(investigator())

    # When the investigator submits it
    response = browser.post(f"/alerts/snoozes/{snooze.pk}/lift/", {"next": next_url})

    # Then the snooze is lifted and the redirect stays on Sentinel (the home page)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert Snooze.objects.get(pk=snooze.pk).lifted_at is not None


def test_lifting_a_snooze_returns_to_a_page_of_the_site(rule, partner):
    snooze = _snooze(rule, partner)
    browser = logged_in(investigator())

    response = browser.post(f"/alerts/snoozes/{snooze.pk}/lift/", {"next": "/alerts/7/"})

    assert response["Location"] == "/alerts/7/"
