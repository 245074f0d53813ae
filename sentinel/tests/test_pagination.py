"""The keyset paginator's parts: which columns make the keyset, which conditions select the rows
beyond a position, and cursors that round-trip exactly and refuse to be edited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from cases.models import Case
from rules.models import Rule
from sentinel.api.pagination import Cursor, CursorPagination, _beyond
from transactions.models import Transaction


def _paginator(ordering=None) -> CursorPagination:
    paginator = CursorPagination()
    paginator.ordering = ordering
    return paginator


def _terms(paginator: CursorPagination, queryset) -> list[str]:
    return [key.term() for key in paginator.keys_for(queryset)]


@pytest.mark.parametrize(
    ("ordering", "terms"),
    [
        (("due_at",), ["due_at", "id"]),  # the id breaks ties, in the same direction
        (("-due_at",), ["-due_at", "-id"]),
        (("-priority", "due_at"), ["-priority", "due_at", "id"]),
        (("-id", "due_at"), ["-id"]),  # nothing after a unique column can matter
        (("pk",), ["id"]),
    ],
)
def test_the_keyset_ends_at_a_unique_column(ordering, terms):
    assert _terms(_paginator(), Case.objects.order_by(*ordering)) == terms


def test_the_keyset_follows_the_pagination_then_the_query_then_the_model():
    assert _terms(_paginator(("code",)), Rule.objects.order_by("-id")) == ["code"]
    assert _terms(_paginator(), Case.objects.order_by("-created_at")) == ["-created_at", "-id"]
    assert _terms(_paginator(), Case.objects.all()) == ["-priority", "due_at", "id"]
    assert _terms(_paginator(), Transaction.objects.all()) == ["-occurred_at", "-id"]


@pytest.mark.parametrize("term", ["closed_at", "partner", "partner__slug", "nonsense", "?"])
def test_columns_a_keyset_cannot_use_are_refused_up_front(term):
    # Nullable columns break row comparison; relations order by another table's columns.
    with pytest.raises(ImproperlyConfigured):
        _paginator((term,)).keys_for(Case.objects.all())


def test_one_direction_is_one_row_comparison():
    keys = _paginator(("-occurred_at", "-id")).keys_for(Transaction.objects.all())
    moment, pk = datetime(2026, 11, 20, 9, tzinfo=UTC), uuid.uuid4()

    (forwards,) = _beyond(keys, Cursor((moment, pk), reverse=False))
    (backwards,) = _beyond(keys, Cursor((moment, pk), reverse=True))

    table = '"transactions_transaction"'
    row = f'({table}."occurred_at", {table}."id")'
    assert f"{row} <" in str(Transaction.objects.filter(forwards).query)
    assert f"{row} >" in str(Transaction.objects.filter(backwards).query)


def test_a_mixed_ordering_reads_the_rest_of_the_tie_first_then_beyond_it():
    keys = _paginator().keys_for(Case.objects.all())  # -priority, due_at, id
    due = datetime(2026, 12, 1, tzinfo=UTC)

    rest_of_tie, lower = _beyond(keys, Cursor((900, due, 42), reverse=False))
    back_tie, higher = _beyond(keys, Cursor((900, due, 42), reverse=True))

    def where(condition) -> str:
        return str(Case.objects.filter(condition).query).split("WHERE", 1)[1]

    assert '("cases_case"."due_at", "cases_case"."id") >' in where(rest_of_tie)
    assert '"cases_case"."priority" = 900' in where(rest_of_tie)
    assert where(lower).strip().startswith('("cases_case"."priority") < (900)')
    assert '("cases_case"."due_at", "cases_case"."id") <' in where(back_tie)
    assert '("cases_case"."priority") > (900)' in where(higher)


def test_the_way_back_from_an_empty_page_includes_the_row_at_the_position():
    keys = _paginator().keys_for(Case.objects.all())  # -priority, due_at, id
    due = datetime(2026, 12, 1, tzinfo=UTC)

    tie, higher = _beyond(keys, Cursor((900, due, 42), reverse=True, inclusive=True))

    assert '("cases_case"."due_at", "cases_case"."id") <=' in str(Case.objects.filter(tie).query)
    assert '("cases_case"."priority") > (900)' in str(Case.objects.filter(higher).query)


def _request(query: dict | None = None) -> Request:
    return Request(APIRequestFactory().get("/api/v1/transactions/", query or {}))


def test_a_cursor_round_trips_its_values_exactly():
    paginator = _paginator(("-occurred_at", "-id"))
    paginator.request = _request({"type": "p2p"})
    keys = paginator.keys_for(Transaction.objects.all())
    position = (datetime(2026, 11, 20, 9, 0, 0, 123456, tzinfo=UTC), uuid.uuid4())

    link = paginator.encode_cursor(keys, Cursor(position, reverse=True, inclusive=True))
    query = parse_qs(urlsplit(link).query)
    decoded = paginator.decode_cursor(_request({"cursor": query["cursor"][0]}), keys)

    assert query["type"] == ["p2p"]
    assert decoded == Cursor(position, reverse=True, inclusive=True)


def test_a_cursor_signed_for_another_purpose_is_refused():
    payload = {"o": ["-occurred_at", "-id"], "v": [], "r": 0, "i": 0}
    forged = signing.Signer().sign_object(payload)
    paginator = _paginator(("-occurred_at", "-id"))
    keys = paginator.keys_for(Transaction.objects.all())

    with pytest.raises(APIException) as refused:
        paginator.decode_cursor(_request({"cursor": forged}), keys)

    assert refused.value.status_code == 400
    assert list(refused.value.fields) == ["cursor"]
