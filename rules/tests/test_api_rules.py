"""The staff rules API: read-only, filterable, closed to partners and anonymous callers."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from rules.choices import RuleStatus
from rules.tests import factories

pytestmark = pytest.mark.django_db
URL = "/api/v1/rules/"


@pytest.fixture
def staff_api():
    client = APIClient()
    client.force_login(factories.officer())
    return client


def test_staff_list_rules_with_the_version_in_effect(staff_api):
    factories.rule(code="aaa_test", expression="amount > 5", status=RuleStatus.SHADOW)
    body = staff_api.get(URL, {"code": "aaa_test"}).json()
    (rule,) = body["results"]
    assert rule["code"] == "aaa_test"
    assert rule["status"] == "shadow"
    assert rule["version"]["expression"] == "amount > 5"
    assert rule["version"]["number"] == 1


def test_rules_filter_by_status(staff_api):
    factories.rule(code="paused_one", status=RuleStatus.PAUSED)
    codes = [r["code"] for r in staff_api.get(URL, {"status": "paused"}).json()["results"]]
    assert "paused_one" in codes
    assert all(
        r["status"] == "paused" for r in staff_api.get(URL, {"status": "paused"}).json()["results"]
    )


def test_a_bad_filter_value_is_a_400(staff_api):
    response = staff_api.get(URL, {"status": "sleeping"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_detail_by_code(staff_api):
    factories.rule(code="by_code")
    assert staff_api.get(f"{URL}by_code/").json()["code"] == "by_code"
    assert staff_api.get(f"{URL}no_such_rule/").status_code == 404


def test_partners_and_anonymous_callers_are_refused(partner_client):
    assert APIClient().get(URL).status_code in (401, 403)
    assert partner_client().get(URL).status_code == 403


def test_rules_cannot_be_changed_through_the_api(staff_api):
    factories.rule(code="fixed")
    assert staff_api.post(URL, {"code": "x"}, format="json").status_code == 405
    assert staff_api.delete(f"{URL}fixed/").status_code == 405
