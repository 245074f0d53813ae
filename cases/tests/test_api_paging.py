"""Paging the staff case list by keyset on the ordering the client chose (or the queue's:
highest priority, then earliest due), with the id as tie-breaker: every case once, in order,
both ways, with no OFFSET at any depth."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from cases.choices import CaseStatus
from cases.models import Case
from sentinel.testing import keyset_pages, logged_in
from transactions.tests.factories import PartnerBankFactory

from . import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases/"
PAGE_FIELDS = {"count", "next", "previous", "results"}  # the case list also counts


@pytest.fixture
def tied():
    """120 cases on three priorities and two due dates: long ties on both, ids to break them."""
    partner, now = PartnerBankFactory(), timezone.now()
    Case.objects.bulk_create(
        Case(
            partner=partner,
            customer_external_id=f"C-{n}",
            account_external_id=f"A-{n}",
            severity="high",
            priority=(500, 900, 1300)[n % 3],
            status=CaseStatus.OPEN,
            created_at=now,
            due_at=now + timedelta(hours=(24, 48)[n % 2]),
        )
        for n in range(120)
    )
    return partner


def _expected(*ordering: str, **filters) -> list[int]:
    return list(Case.objects.filter(**filters).order_by(*ordering).values_list("id", flat=True))


@pytest.mark.parametrize(
    ("query", "ordering"),
    [
        ("", ("-priority", "due_at", "id")),  # the queue's own: two directions, two queries
        ("ordering=due", ("due_at", "id")),
        ("ordering=-due", ("-due_at", "-id")),
        ("ordering=-priority,due", ("-priority", "due_at", "id")),
        ("ordering=priority,-created", ("priority", "-created_at", "-id")),
        ("ordering=-id", ("-id",)),
    ],
)
def test_every_case_once_in_the_chosen_order_both_ways(tied, query, ordering):
    # Given 120 cases tied on priority and due date, and a list in some ordering
    client = logged_in(f.investigator(), APIClient)

    # When it is read 9 at a time, forwards to the end and back from the last page
    forwards = keyset_pages(client, f"{URL}?{query}&page_size=9", "next", fields=PAGE_FIELDS)
    last = client.get(f"{URL}?{query}&page_size=9").json()
    while last["next"]:
        last = client.get(last["next"]).json()
    backwards = keyset_pages(client, last["previous"], "previous", fields=PAGE_FIELDS)

    # Then every case appears once, in that ordering with the id breaking ties, both ways
    assert [pk for page in forwards for pk in page] == _expected(*ordering)
    assert [len(page) for page in forwards] == [9] * 13 + [3]
    assert backwards == forwards[-2::-1]


def test_the_count_stays_and_filters_combine_with_paging(tied):
    Case.objects.filter(priority=900).update(severity="low")
    client = logged_in(f.investigator(), APIClient)

    first = client.get(URL, {"severity": "low", "page_size": 7}).json()
    pages = keyset_pages(client, f"{URL}?severity=low&page_size=7", "next", fields=PAGE_FIELDS)

    assert first["count"] == 40
    assert set(first) == {"count", "next", "previous", "results"}
    assert parse_qs(urlsplit(first["next"]).query)["severity"] == ["low"]
    assert [pk for page in pages for pk in page] == _expected(
        "-priority", "due_at", "id", severity="low"
    )


def test_page_numbers_answer_400_rather_than_a_silent_first_page(tied):
    response = logged_in(f.investigator(), APIClient).get(URL, {"page": "2"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["page"]


def test_a_cursor_from_another_ordering_answers_400(tied):
    client = logged_in(f.investigator(), APIClient)
    by_due = client.get(URL, {"ordering": "due", "page_size": 5}).json()["next"]
    cursor = parse_qs(urlsplit(by_due).query)["cursor"][0]

    response = client.get(URL, {"ordering": "-created", "cursor": cursor})

    assert response.status_code == 400
    assert "another ordering" in response.json()["error"]["fields"]["cursor"][0]


def test_a_deep_page_is_keyset_ranges_and_costs_what_the_first_costs(tied):
    # Given the queue's mixed ordering, read 10 at a time to the page that crosses from the
    # 900 priority to the 500 one (two ranges: the rest of the tie, then the lower priority)
    client = logged_in(f.investigator(), APIClient)
    with CaptureQueriesContext(connection) as first:
        body = client.get(URL, {"page_size": 10}).json()
    for _ in range(6):
        body = client.get(body["next"]).json()

    # When page 8 is read
    with CaptureQueriesContext(connection) as deep:
        response = client.get(body["next"])

    # Then no statement has an OFFSET, the rows came from at most two range reads, and the
    # page took at most one query more than the first
    assert len(response.json()["results"]) == 10
    statements = [query["sql"] for query in deep.captured_queries]
    assert not [sql for sql in statements if "OFFSET" in sql.upper()]
    ranges = [sql for sql in statements if '("cases_case"."due_at", "cases_case"."id") >' in sql]
    below = [sql for sql in statements if '("cases_case"."priority") <' in sql]
    assert len(ranges) == 1 and len(below) == 1
    assert len(deep.captured_queries) <= len(first.captured_queries) + 1 <= 9
