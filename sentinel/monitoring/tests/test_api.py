"""``GET /api/v1/monitor``: partners see their own traffic, staff any or all."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from sentinel.testing import logged_in
from transactions.tests.factories import PartnerBankFactory

from .helpers import MINUTE, T0, monitor_viewer, seed_history

pytestmark = pytest.mark.django_db
URL = "/api/v1/monitor"
CONTRACT_KEYS = {"current_minute", "metrics", "thresholds", "persistence_analysis"}
METRICS = {"failed_rate", "denied_rate", "reversed_rate", "latency_p95_ms"}


@pytest.fixture
def client_with_history(partner_client):
    client = partner_client("Monitored Bank")
    seed_history(client.partner, start=T0 - 1440 * MINUTE, minutes=1441)
    return client


def test_a_partner_sees_its_own_traffic_in_the_contract_shape(client_with_history):
    response = client_with_history.get(URL, {"at": "2026-03-02T12:00:00Z"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert CONTRACT_KEYS <= set(body)
    assert body["partner"] == client_with_history.partner.slug
    assert body["current_minute"] == "2026-03-02T12:00:00Z"
    assert body["metrics"]["total"] == 200
    assert set(body["thresholds"]) == METRICS == set(body["persistence_analysis"])
    assert body["persistence_analysis"]["failed_rate"]["severity"] == "HEALTHY"
    assert body["thresholds"]["failed_rate"]["value"] > 0


def test_a_partner_gets_a_breakdown_by_acquirer(client_with_history):
    body = client_with_history.get(
        URL, {"at": "2026-03-02T12:00:00Z", "dimension": "acquirer"}
    ).json()

    assert body["dimension"]["name"] == "acquirer"
    assert {v["value"] for v in body["dimension"]["values"]} == {"acq-1", "acq-2"}
    assert CONTRACT_KEYS - {"current_minute"} <= set(body["dimension"]["values"][0])


def test_another_partners_traffic_answers_404_and_all_403(client_with_history):
    other = PartnerBankFactory()

    assert client_with_history.get(URL, {"partner": other.slug}).status_code == 404
    assert client_with_history.get(URL, {"partner": "all"}).status_code == 403
    own = client_with_history.get(URL, {"partner": client_with_history.partner.slug})
    assert own.status_code == 200


def test_unsigned_requests_answer_401():
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert "error" in response.json()


def test_staff_without_the_monitor_permission_answer_403():
    user = User.objects.create_user("nobody", password="pw", is_staff=True)
    assert logged_in(user, APIClient).get(URL).status_code == 403


def test_staff_see_all_partners_or_one(client_with_history):
    client = logged_in(monitor_viewer(), APIClient)

    everyone = client.get(URL, {"at": "2026-03-02T12:00:00Z"}).json()
    one = client.get(
        URL, {"partner": client_with_history.partner.slug, "at": "2026-03-02T12:00:00Z"}
    )

    assert everyone["partner"] == "all" and CONTRACT_KEYS <= set(everyone)
    assert client_with_history.partner.slug in {p["partner"] for p in everyone["partners"]}
    assert one.status_code == 200 and one.json()["metrics"]["total"] == 200
    assert client.get(URL, {"partner": "no-such-bank"}).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"dimension": "colour"}, "dimension"),
        ({"at": "yesterday-ish"}, "at"),
        ({"at": "2999-01-01T00:00:00Z"}, "at"),
    ],
)
def test_bad_parameters_answer_400(client_with_history, params, field):
    response = client_with_history.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_latest_is_the_newest_minute_with_traffic(client_with_history):
    body = client_with_history.get(URL, {"at": "latest"}).json()
    assert body["current_minute"] == "2026-03-02T12:00:00Z"
