"""The staff alert API: filters, detail, actions, and who may use it."""

from __future__ import annotations

import zoneinfo

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from alerts import services
from alerts.api.serializers import AlertDetailSerializer, AlertSerializer
from alerts.models import Alert
from alerts.selectors import alerts_as_messages, alerts_list, alerts_with_latest_links
from alerts.tests.test_services import (
    ingest_and_score,
    investigator,
    staff,
)
from rules.tests import factories
from sentinel.testing import logged_in
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/alerts/"


@pytest.fixture
def api():
    return logged_in(investigator(), APIClient)


@pytest.fixture
def alerts(alerts_wired):
    """Two partners; a high alert on A1 at the first, a low one on A2 at the second."""
    high = factories.rule(code="big_amount", expression="amount >= 1000", severity="high")
    low = factories.rule(code="any_amount", expression="amount < 1000", severity="low")
    factories.only_these_rules(high, low)
    first, second = PartnerBankFactory(slug="first-bank"), PartnerBankFactory(slug="second-bank")
    ingest_and_score(first, transaction_payload(amount="5000.00"))
    ingest_and_score(
        second,
        transaction_payload(amount="10.00", originator={"account_id": "A2", "customer_id": "C2"}),
    )
    return Alert.objects.get(rule=high), Alert.objects.get(rule=low)


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_the_list_carries_the_contract_fields_highest_priority_first(api, alerts):
    high, low = alerts
    body = api.get(URL).json()
    assert [row["id"] for row in body["results"]] == [high.pk, low.pk]
    row = body["results"][0]
    assert row["subject"] == {"partner": "first-bank", "account_id": "A1", "customer_id": "C1"}
    assert (row["rule"], row["severity"], row["status"]) == ("big_amount", "high", "new")
    assert row["score"] == row["priority"] == high.priority
    assert row["transaction_ids"] == [str(high.links.get().transaction_id)]
    assert row["case_id"] == high.case_link.case_id  # every alert joins its subject's case
    assert (row["occurrences"], row["amount_involved"], row["currency"]) == (1, "5000.0000", "USD")
    assert {"created_at", "first_seen_at", "last_seen_at"} <= set(row)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "new"}, "both"),
        ({"status": "dismissed"}, "none"),
        ({"severity": "low"}, "low"),
        ({"rule": "big_amount"}, "high"),
        ({"partner": "second-bank"}, "low"),
        ({"subject": "A1"}, "high"),
        ({"created_after": "2000-01-01T00:00:00Z"}, "both"),
        ({"created_before": "2000-01-01T00:00:00Z"}, "none"),
    ],
)
def test_list_filters(api, alerts, params, expected):
    high, low = alerts
    wanted = {"both": [high.pk, low.pk], "high": [high.pk], "low": [low.pk], "none": []}
    assert _ids(api.get(URL, params)) == wanted[expected]


def test_min_priority_filter(api, alerts):
    high, low = alerts
    assert _ids(api.get(URL, {"min_priority": low.priority + 1})) == [high.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "sleeping"},
        {"severity": "urgent"},
        {"min_priority": "lots"},
        {"min_priority": "-1"},
        {"created_after": "yesterday"},
    ],
)
def test_a_bad_filter_is_a_400(api, alerts, params):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert set(params) <= set(response.json()["error"]["fields"])


def test_the_list_costs_a_bounded_number_of_queries(api, alerts, django_assert_max_num_queries):
    # session, user, second factor needed?, permissions, page, links
    with django_assert_max_num_queries(7):
        assert len(_ids(api.get(URL))) == 2


def test_the_list_names_an_alerts_latest_transactions_and_the_detail_all(api, alerts, monkeypatch):
    from alerts import selectors

    monkeypatch.setattr(selectors, "LISTED_TRANSACTIONS", 2)
    high, _ = alerts
    later = [
        transaction_payload(amount="5000.00", occurred_at=f"2026-01-0{day}T10:00:00Z")
        for day in (2, 3)
    ]
    ids = ingest_and_score(high.partner, *later)

    row = next(row for row in api.get(URL).json()["results"] if row["id"] == high.pk)
    assert row["occurrences"] == 3
    assert row["transaction_ids"] == [str(pk) for pk in ids]  # the latest two, in link order
    detail = api.get(f"{URL}{high.pk}/").json()
    assert len(detail["transactions"]) == 3


def test_detail_has_hits_transactions_and_history(api, alerts):
    high, _ = alerts
    body = api.get(f"{URL}{high.pk}/").json()
    (hit,) = body["hits"]
    assert (hit["rule"], hit["version"], hit["severity"]) == ("big_amount", 1, "high")
    assert "amount = 5,000.00 >= 1,000" in hit["explanation"]
    (tx,) = body["transactions"]
    assert (tx["amount"], tx["currency"], tx["type"]) == ("5000.0000", "USD", "transfer")
    assert tx["id"] == hit["transaction_id"] == body["transaction_ids"][0]
    assert [event["type"] for event in body["events"]] == ["created"]


def test_unknown_alerts_are_404(api, alerts):
    assert api.get(f"{URL}999999/").status_code == 404
    assert api.get(f"{URL}nope/").status_code == 404
    assert api.post(f"{URL}999999/acknowledge/").status_code == 404


def test_acknowledge_then_dismiss(api, alerts):
    high, _ = alerts

    acknowledged = api.post(f"{URL}{high.pk}/acknowledge/")
    dismissed = api.post(f"{URL}{high.pk}/dismiss/", {"reason": "Payroll."}, format="json")

    assert acknowledged.status_code == 200 and acknowledged.json()["status"] == "acknowledged"
    assert dismissed.status_code == 200
    body = dismissed.json()
    assert (body["status"], body["dismiss_reason"]) == ("dismissed", "Payroll.")
    assert [e["type"] for e in body["events"]] == ["created", "acknowledged", "dismissed"]
    assert body["events"][-1]["actor"].startswith("investigator")


def test_acknowledging_twice_is_a_409(api, alerts):
    high, _ = alerts
    api.post(f"{URL}{high.pk}/acknowledge/")
    response = api.post(f"{URL}{high.pk}/acknowledge/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_dismissing_twice_is_a_409(api, alerts):
    high, _ = alerts
    api.post(f"{URL}{high.pk}/dismiss/", {"reason": "Fine."}, format="json")
    response = api.post(f"{URL}{high.pk}/dismiss/", {"reason": "Again."}, format="json")
    assert response.status_code == 409
    assert "dismissed" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 2001}, {"reason": "ok", "x": 1}],
)
def test_dismiss_needs_a_valid_reason(api, alerts, body):
    high, _ = alerts
    response = api.post(f"{URL}{high.pk}/dismiss/", body, format="json")
    assert response.status_code == 400
    high.refresh_from_db()
    assert high.status == "new"


def test_dismiss_with_a_malformed_body_is_a_400(api, alerts):
    high, _ = alerts
    response = api.post(f"{URL}{high.pk}/dismiss/", "[1", content_type="application/json")
    assert response.status_code == 400


def test_readers_may_not_act(alerts):
    high, _ = alerts
    reader = logged_in(staff("view_alert"), APIClient)
    assert reader.get(URL).status_code == 200
    assert reader.post(f"{URL}{high.pk}/acknowledge/").status_code == 403
    assert reader.post(f"{URL}{high.pk}/dismiss/", {"reason": "x"}, format="json").status_code == (
        403
    )


def test_staff_without_the_permission_are_refused(alerts):
    assert logged_in(staff(), APIClient).get(URL).status_code == 403


def test_partners_and_anonymous_callers_are_refused(alerts, partner_client):
    high, _ = alerts
    assert APIClient().get(URL).status_code == 401
    partner = partner_client()
    assert partner.get(URL).status_code == 403
    assert partner.post(f"{URL}{high.pk}/acknowledge/", {}).status_code == 403


def test_the_actions_change_what_the_service_would(api, alerts):
    """The API is a thin layer: an alert dismissed by the service reads the same."""
    high, _ = alerts
    services.alert_dismiss(alert=high, actor=investigator(), reason="Known.")
    assert api.get(f"{URL}{high.pk}/").json()["status"] == "dismissed"


def test_the_admin_lists_and_shows_alerts_read_only(alerts, admin_client):
    high, _ = alerts
    assert admin_client.get("/admin/alerts/alert/").status_code == 200
    page = admin_client.get(f"/admin/alerts/alert/{high.pk}/change/")
    assert page.status_code == 200
    assert b"big_amount" in page.content
    assert admin_client.get("/admin/alerts/alert/add/").status_code == 403


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_the_alert_object_is_what_a_generic_walk_of_its_declared_fields_writes(alerts, zone):
    # The serializers write their fields directly (speed); DRF's own walk is the reference
    high, low = alerts
    Alert.objects.filter(pk=low.pk).update(
        status="dismissed", dismiss_reason="Known payroll run.", customer_external_id=""
    )
    listed = alerts_with_latest_links(list(alerts_as_messages().order_by("pk")))
    detailed = list(alerts_list().prefetch_related("links__hit__rule", "events").order_by("pk"))

    with timezone.override(zoneinfo.ZoneInfo(zone)):
        for serializer, rows in ((AlertSerializer(), listed), (AlertDetailSerializer(), detailed)):
            for alert in rows:
                direct = serializer.to_representation(alert)
                generic = serializers.Serializer.to_representation(serializer, alert)
                assert list(direct) == list(generic)
                assert direct == generic
    rows = AlertSerializer(listed, many=True).data  # what the comparison covered
    assert {row["subject"]["customer_id"] for row in rows} == {None, "C1"}
    assert {row["dismiss_reason"] for row in rows} == {"", "Known payroll run."}
    assert all(row["case_id"] for row in rows)
