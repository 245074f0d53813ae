"""Paging the staff alert list by keyset on (priority, last_seen_at, id), all descending: a
burst of alerts alike in both is read once, in order, both ways, with no OFFSET."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.choices import AlertStatus
from alerts.models import Alert
from alerts.tests.test_services import investigator
from rules.tests import factories
from sentinel.testing import keyset_pages
from transactions.tests.factories import PartnerBankFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/alerts/"


@pytest.fixture
def api() -> APIClient:
    client = APIClient()
    client.force_login(investigator())
    return client


@pytest.fixture
def burst():
    """150 alerts from one second: 100 alike in priority and time, 50 in two other groups."""
    rule, partner, now = factories.rule(code="burst"), PartnerBankFactory(), timezone.now()
    Alert.objects.bulk_create(
        Alert(
            rule=rule,
            rule_version_id=rule.version_id,
            partner=partner,
            account_external_id=f"A-{n}",
            customer_external_id=f"C-{n}",
            severity="high",
            status=AlertStatus.ACKNOWLEDGED if n % 5 == 0 else AlertStatus.NEW,
            first_seen_at=now - timedelta(seconds=1),
            last_seen_at=now - timedelta(seconds=1 if n >= 125 else 0),
            currency="USD",
            amount_involved=Decimal("1500.00"),
            priority=1000 if n >= 100 else 800,
        )
        for n in range(150)
    )


def _expected(**filters) -> list[int]:
    rows = Alert.objects.filter(**filters).order_by("-priority", "-last_seen_at", "-id")
    return list(rows.values_list("id", flat=True))


def test_a_burst_is_read_once_in_order_forwards_and_backwards(api, burst):
    forwards = keyset_pages(api, f"{URL}?page_size=8", "next")
    last = api.get(URL, {"page_size": 8}).json()
    while last["next"]:
        last = api.get(last["next"]).json()
    backwards = keyset_pages(api, last["previous"], "previous")

    assert [pk for page in forwards for pk in page] == _expected()
    assert [len(page) for page in forwards] == [8] * 18 + [6]
    assert backwards == forwards[-2::-1]


def test_filters_combine_with_paging(api, burst):
    pages = keyset_pages(api, f"{URL}?status=acknowledged&page_size=4", "next")
    first = api.get(URL, {"status": "acknowledged", "page_size": 4}).json()

    assert [pk for page in pages for pk in page] == _expected(status="acknowledged")
    assert len(pages) == 8  # 30 acknowledged alerts
    assert parse_qs(urlsplit(first["next"]).query)["status"] == ["acknowledged"]


def test_a_bad_cursor_answers_400(api, burst):
    response = api.get(URL, {"cursor": "bm90IGEgY3Vyc29y:forged"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "cursor" in response.json()["error"]["fields"]


def test_a_deep_page_has_no_offset_and_costs_what_the_first_costs(api, burst):
    with CaptureQueriesContext(connection) as first:
        body = api.get(URL, {"page_size": 10}).json()
    for _ in range(10):
        body = api.get(body["next"]).json()

    with CaptureQueriesContext(connection) as deep:
        response = api.get(body["next"])

    assert len(response.json()["results"]) == 10
    statements = [query["sql"] for query in deep.captured_queries]
    assert not [sql for sql in statements if "OFFSET" in sql.upper()]
    row = '("alerts_alert"."priority", "alerts_alert"."last_seen_at", "alerts_alert"."id") <'
    assert len([sql for sql in statements if row in sql]) == 1
    assert len(deep.captured_queries) == len(first.captured_queries)
