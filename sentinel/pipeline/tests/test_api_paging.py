"""Paging the partner's transaction list by keyset: every row once, in order, both ways, at the
same cost at any depth, even when hundreds of transactions share one ``occurred_at``."""

from __future__ import annotations

import base64
import gc
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sentinel.testing import keyset_pages, link_path
from transactions.models import Transaction
from transactions.services import transactions_ingest
from transactions.tests.factories import transaction_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/transactions/"
BURST = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)


def _at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _store(partner, count: int, *, at: datetime = BURST, **fields) -> None:
    """``count`` transactions stamped with the same second (a batch file, a burst)."""
    payloads = [transaction_payload(occurred_at=_at(at), **fields) for _ in range(count)]
    results = transactions_ingest(partner=partner, payloads=payloads)
    assert {result.status for result in results} == {"created"}


def _newest_first(partner, **filters) -> list[str]:
    rows = Transaction.objects.filter(partner=partner, **filters).order_by("-occurred_at", "-id")
    return [str(pk) for pk in rows.values_list("id", flat=True)]


def _tampered(cursor: str, **changes) -> str:
    """The cursor with its payload edited and its old signature kept."""
    payload, signature = cursor.split(":", 1)
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    edited = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return f"{edited.decode().rstrip('=')}:{signature}"


def _cursor(link: str) -> str:
    return parse_qs(urlsplit(link).query)["cursor"][0]


def test_a_tie_of_hundreds_is_read_once_in_order_forwards_and_backwards(partner_client):
    # Given 300 transactions in one second, with one older and one newer around them
    client = partner_client()
    _store(client.partner, 300)
    _store(client.partner, 1, at=BURST + timedelta(seconds=1))
    _store(client.partner, 1, at=BURST - timedelta(seconds=1))
    expected = _newest_first(client.partner)

    # When the list is read 7 at a time, following next links to the end
    forwards = keyset_pages(client, f"{URL}?page_size=7", "next", most=1000)

    # Then every transaction appears exactly once, newest first, ids descending within the tie
    seen = [pk for page in forwards for pk in page]
    assert seen == expected and len(set(seen)) == 302
    assert [len(page) for page in forwards] == [7] * 43 + [1]

    # When the previous links are followed back from the last page
    last = client.get(f"{URL}?page_size=7", {}).json()
    for _ in range(len(forwards) - 1):
        last = client.get(link_path(last["next"])).json()
    assert last["next"] is None
    backwards = keyset_pages(client, link_path(last["previous"]), "previous", most=1000)

    # Then the same pages come back in reverse, each in list order, down to the first page
    assert backwards == forwards[-2::-1]


def test_the_first_page_has_no_previous_and_the_last_no_next(partner_client):
    client = partner_client()
    _store(client.partner, 3)

    whole = client.get(URL).json()
    first = client.get(URL, {"page_size": 2}).json()
    second = client.get(link_path(first["next"])).json()

    assert (whole["next"], whole["previous"], len(whole["results"])) == (None, None, 3)
    assert first["previous"] is None and first["next"]
    assert second["next"] is None and second["previous"]
    back = client.get(link_path(second["previous"])).json()
    assert [row["id"] for row in back["results"]] == [row["id"] for row in first["results"]]
    assert back["previous"] is None


def test_filters_combine_with_paging_and_the_links_keep_them(partner_client):
    # Given a burst of transfers and p2p payments in one second
    client = partner_client()
    _store(client.partner, 40, type="transfer")
    _store(client.partner, 25, type="p2p", amount="20.00")

    # When only the p2p payments are paged, 4 at a time
    pages = keyset_pages(client, f"{URL}?type=p2p&page_size=4", "next", most=1000)

    # Then each p2p payment appears once, in order, and nothing else does
    assert [pk for page in pages for pk in page] == _newest_first(client.partner, type="p2p")
    assert len(pages) == 7
    first = client.get(URL, {"type": "p2p", "page_size": 4}).json()
    assert parse_qs(urlsplit(first["next"]).query)["type"] == ["p2p"]


def test_page_size_keeps_the_old_bounds(partner_client):
    client = partner_client()
    _store(client.partner, 60)

    def size(value: str) -> int:
        return len(client.get(URL, {"page_size": value}).json()["results"])

    assert size("5") == 5
    assert size("0") == size("-3") == size("many") == 50  # unusable: the default
    assert len(client.get(URL).json()["results"]) == 50
    assert size("100000") == 60  # capped at 500; only 60 exist


@pytest.mark.parametrize(
    "cursor",
    ["abc", "not:a:cursor", "eyJvIjpbXX0:bad-signature", "%00", "🙂"],
)
def test_a_malformed_cursor_answers_400_in_the_error_shape(partner_client, cursor):
    client = partner_client()
    _store(client.partner, 3)

    response = client.get(URL, {"cursor": cursor})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["cursor"]
    assert "cursor" in error["message"]


def test_an_empty_cursor_is_the_first_page_as_before(partner_client):
    client = partner_client()
    _store(client.partner, 3)

    response = client.get(URL, {"cursor": "", "page_size": 2})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == _newest_first(client.partner)[:2]


def test_a_page_emptied_since_its_link_was_made_leads_back_to_the_whole_page_before(
    partner_client,
):
    # Given a link to the third page of 12 transactions in one second, 5 a page
    client = partner_client()
    _store(client.partner, 12)
    first = client.get(URL, {"page_size": 5}).json()
    second = client.get(link_path(first["next"])).json()
    # When the two transactions of that page are gone before it is read
    Transaction.objects.filter(pk__in=_newest_first(client.partner)[10:]).delete()
    emptied = client.get(link_path(second["next"])).json()

    # Then the page is empty, has no next, and its previous link gives the second page whole,
    # the row the cursor pointed at included
    assert (emptied["results"], emptied["next"]) == ([], None)
    back = client.get(link_path(emptied["previous"])).json()
    assert [row["id"] for row in back["results"]] == [row["id"] for row in second["results"]]
    assert [row["id"] for row in client.get(link_path(back["previous"])).json()["results"]] == [
        row["id"] for row in first["results"]
    ]
    assert client.get(link_path(back["next"])).json()["results"] == []


@pytest.mark.parametrize(
    "change",
    [
        {"v": ["2020-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000000"]},
        {"r": 1},
        {"o": ["-occurred_at"]},
    ],
)
def test_an_edited_cursor_answers_400(partner_client, change):
    # Given a genuine next link
    client = partner_client()
    _store(client.partner, 5)
    cursor = _cursor(client.get(URL, {"page_size": 2}).json()["next"])
    assert client.get(URL, {"cursor": cursor, "page_size": 2}).status_code == 200

    # When its payload is edited (positions, direction, ordering) and the signature kept
    response = client.get(URL, {"cursor": _tampered(cursor, **change), "page_size": 2})

    # Then it is refused as altered
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["cursor"]


def test_another_partners_cursor_only_positions_within_ones_own_rows(partner_client):
    # Given two partners with bursts in the same second, their ids interleaved
    alpha, beta = partner_client("Alpha Bank"), partner_client("Beta Bank")
    for _ in range(4):
        _store(alpha.partner, 5)
        _store(beta.partner, 5)
    alpha_ids = set(_newest_first(alpha.partner))

    # When beta sends a cursor taken from alpha's list
    cursor = _cursor(alpha.get(URL, {"page_size": 5}).json()["next"])
    response = beta.get(URL, {"cursor": cursor, "page_size": 50})

    # Then beta sees only its own transactions, those beyond that position in list order
    assert response.status_code == 200
    body = response.json()
    ids = [row["id"] for row in body["results"]]
    assert not alpha_ids & set(ids)
    position = _position(cursor)
    assert ids == [pk for pk in _newest_first(beta.partner) if _key(pk) < position]
    assert 0 < len(ids) < 20
    (previous,) = [link for link in (body["next"], body["previous"]) if link]
    rows = beta.get(link_path(previous)).json()["results"]
    assert rows and not alpha_ids & {row["id"] for row in rows}


def _position(cursor: str) -> tuple:
    payload = cursor.split(":", 1)[0]
    values = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["v"]
    return datetime.fromisoformat(values[0]), values[1]


def _key(pk: str) -> tuple:
    row = Transaction.objects.get(pk=pk)
    return row.occurred_at, str(row.id)


def test_a_deep_page_costs_what_the_first_costs_and_has_no_offset(partner_client):
    # Given 300 transactions in one second, read 10 at a time down to page 25
    client = partner_client()
    _store(client.partner, 300)
    link = f"{URL}?page_size=10"
    with CaptureQueriesContext(connection) as first:
        body = client.get(link).json()
    for _ in range(24):
        body = client.get(link_path(body["next"])).json()

    # When page 26 is read
    with CaptureQueriesContext(connection) as deep:
        response = client.get(link_path(body["next"]))

    # Then it holds 10 rows, was one keyset range (a row comparison and LIMIT 11, no OFFSET),
    # and took as many queries as the first page
    assert len(response.json()["results"]) == 10
    statements = [query["sql"] for query in deep.captured_queries]
    assert not [sql for sql in statements if "OFFSET" in sql.upper()]
    (page_query,) = [sql for sql in statements if 'FROM "transactions_transaction"' in sql]
    assert '("transactions_transaction"."occurred_at", "transactions_transaction"."id") <' in (
        page_query
    )
    assert page_query.rstrip().endswith("LIMIT 11")
    assert len(deep.captured_queries) == len(first.captured_queries) <= 6


def test_the_keyset_is_one_backward_range_of_the_partner_time_index(partner_client):
    # Given a partner's burst and the query of a page beyond a position in it
    client = partner_client()
    _store(client.partner, 50)
    cursor = _cursor(client.get(URL, {"page_size": 10}).json()["next"])
    with CaptureQueriesContext(connection) as captured:
        client.get(URL, {"cursor": cursor, "page_size": 10})
    (sql,) = [
        query["sql"]
        for query in captured.captured_queries
        if 'FROM "transactions_transaction"' in query["sql"]
    ]

    # When PostgreSQL plans it (sequential scans ruled out: the table is tiny here)
    with connection.cursor() as cursor_:
        cursor_.execute("SET LOCAL enable_seqscan = off")
        cursor_.execute(f"EXPLAIN {sql}")  # noqa: S608 - the SQL Django itself just ran
        plan = "\n".join(row[0] for row in cursor_.fetchall())

    # Then the index hands rows over in list order: no sort, the row comparison as its bound
    assert "tx_partner_time_id" in plan, plan
    assert "Sort" not in plan, plan
    assert "Index Scan Backward using tx_partner_time_id" in plan, plan
    # the scan's own condition, not just any line: (ROW)(occurred_at, id) < ROW(<cursor>)
    (bound,) = [
        line for line in plan.splitlines() if "Index Cond" in line and "occurred_at" in line
    ]
    assert "(occurred_at, id) < ROW(" in bound, plan


def test_a_page_is_freed_with_its_response_not_left_to_the_garbage_collector(partner_client):
    # Given a page of transactions, read with the cyclic garbage collector paused
    client = partner_client()
    _store(client.partner, 40)
    gc.collect()
    gc.disable()
    try:
        response = client.get(URL, {"page_size": 40})
        assert response.status_code == 200
        assert len(response.json()["results"]) == 40
        # The test client ties its response to itself (response.json); a server does not.
        del response.json
        del response
        # Then nothing of the page outlives the response: no instance waits for a collection
        # (DRF's own list left all of them in reference cycles, bench/paging.py)
        left = [item for item in gc.get_objects() if type(item) is Transaction]
    finally:
        gc.enable()
    # Django's prefetch writes the first instance into its Prefetch's queryset as a routing
    # hint, and the filterset that holds that queryset is a cycle of its own: one instance,
    # never the page.
    assert len(left) <= 1
