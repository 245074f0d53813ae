"""Keyset pagination: a page costs the same at any depth, however many rows share a timestamp.

DRF's own CursorPagination keeps only the first ordering field in its cursor and steps over
rows that share that value with OFFSET, so paging through 60,000 transactions stamped with the
same second read the whole tie again for every page (minutes in all). Here the cursor holds the
values of the *whole* ordering, which always ends in a unique column (the primary key is added
when the ordering has none), and the next page is the rows strictly beyond that position:
``WHERE (occurred_at, id) < (%s, %s) ORDER BY occurred_at DESC, id DESC LIMIT n``, one range
scan of an index that holds those columns in that order. No OFFSET, ever.

The cursor is the keyset values (with the ordering they belong to and the direction of travel)
as JSON in URL-safe base64, signed with the SECRET_KEY: a client can read it but not forge or
edit it, and a malformed, altered or foreign one answers 400. It only positions: the page is
still read from the view's queryset, so a cursor carried to another partner or another filter
selects nothing that queryset does not already allow.

The response keeps DRF's cursor shape, ``{"next", "previous", "results"}`` (plus ``count``
where a view asks for it), and its ``page_size`` rule: at most 500, an unusable value means 50.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import uuid
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db.models import BooleanField, Expression, F, Field, Q, QuerySet, Value
from django.template import loader
from django.utils.encoding import force_str
from rest_framework.pagination import BasePagination, _positive_int
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .exceptions import InvalidInput

CURSOR_SALT = "sentinel.api.pagination.cursor"
BAD_CURSOR = "The cursor is malformed or was altered; use the next or previous link as given."
OTHER_ORDERING = "The cursor belongs to another ordering; start again from the first page."


@dataclass(frozen=True)
class Key:
    """One column of a keyset ordering."""

    field: Field
    descending: bool

    def term(self, *, reverse: bool = False) -> str:
        return ("-" if self.descending != reverse else "") + self.field.attname


@dataclass(frozen=True)
class Cursor:
    """A position: the rows strictly beyond ``values`` in the direction of travel, or from
    them on when ``inclusive`` (the way back from an empty page, whose neighbour ends on
    the row at the position itself)."""

    values: tuple
    reverse: bool
    inclusive: bool = False


class RowComparison(Expression):
    """``(a, b) < (x, y)``: PostgreSQL compares row values column by column, and a B-tree index
    holding (a, b) in that order answers it as one range scan."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, columns: list, operator: str, values: list):
        super().__init__()
        if operator not in ("<", ">", "<=", ">="):
            raise ValueError(f"Unsupported row comparison {operator!r}")
        self.columns, self.operator, self.values = list(columns), operator, list(values)

    def get_source_expressions(self) -> list:
        return [*self.columns, *self.values]

    def set_source_expressions(self, expressions: list) -> None:
        count = len(self.columns)
        self.columns, self.values = list(expressions[:count]), list(expressions[count:])

    def as_sql(self, compiler, connection):
        left, left_params = self._row(compiler, self.columns)
        right, right_params = self._row(compiler, self.values)
        return f"({left}) {self.operator} ({right})", (*left_params, *right_params)

    @staticmethod
    def _row(compiler, expressions: list) -> tuple[str, list]:
        parts, params = [], []
        for expression in expressions:
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        return ", ".join(parts), params


class CursorPagination(BasePagination):
    """Keyset pages on ``ordering`` (or, when it is None, on the queryset's own ordering, so a
    FilterSet's user-chosen ``ordering`` is honoured), with the primary key as tie-breaker."""

    ordering: tuple[str, ...] | str | None = "-created_at"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    cursor_query_param = "cursor"
    cursor_query_description = "The position to read from: the value of a next or previous link."
    page_size_query_description = "Results per page, at most 500 (default 50)."
    with_count = False  # True adds "count": the filtered total (one COUNT query per page)
    template = "rest_framework/pagination/previous_and_next.html"

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list | None:
        self.request = request
        self.size = self.get_page_size(request)
        keys = self.keys_for(queryset)
        self.cursor = self.decode_cursor(request, keys)
        self.count = queryset.count() if self.with_count else None
        reverse = self.cursor is not None and self.cursor.reverse
        rows = self.rows_after(queryset, keys, self.cursor, self.size + 1)
        more, page = len(rows) > self.size, rows[: self.size]
        if reverse:
            page.reverse()
        self.next_cursor, self.previous_cursor = self._neighbours(keys, page, more)
        return page

    def get_paginated_response(self, data) -> Response:
        body = {"count": self.count} if self.with_count else {}
        body.update(next=self.get_next_link(), previous=self.get_previous_link(), results=data)
        return Response(body)

    def get_page_size(self, request) -> int:
        if self.page_size_query_param:
            with contextlib.suppress(KeyError, ValueError):
                return _positive_int(
                    request.query_params[self.page_size_query_param],
                    strict=True,
                    cutoff=self.max_page_size,
                )
        return self.page_size

    # --- The ordering and the rows beyond a position -------------------------------------------

    def keys_for(self, queryset: QuerySet) -> list[Key]:
        """The ordering as keys, cut after its first unique column or ended by the primary key
        (in the direction of the column before it, so one row comparison covers the tie)."""
        model = queryset.model
        terms = self.ordering or queryset.query.order_by or model._meta.ordering
        if isinstance(terms, str):
            terms = (terms,)
        keys: list[Key] = []
        for term in terms:
            if not isinstance(term, str) or term == "?":
                raise ImproperlyConfigured(f"Keyset pages need field names to order by: {term!r}")
            name = term.lstrip("-")
            field = model._meta.pk if name == "pk" else _local_field(model, name)
            keys.append(Key(field, descending=term.startswith("-")))
            if field.primary_key or field.unique:
                return keys
        return [*keys, Key(model._meta.pk, descending=keys[-1].descending if keys else False)]

    def rows_after(
        self, queryset: QuerySet, keys: list[Key], cursor: Cursor | None, limit: int
    ) -> list:
        """Up to ``limit`` rows strictly beyond the cursor in its direction of travel.

        Keys that all run one way are one row comparison and one query. A mixed ordering
        (cases: priority down, then due date up) is cut into runs of one direction; the rows
        beyond the position are then, in order: the same values on the leading runs and beyond
        on the last run, ..., beyond on the first run. Each part is one index range, read in
        turn until the page is full: at most one query per run.
        """
        reverse = cursor is not None and cursor.reverse
        ordered = queryset.order_by(*(key.term(reverse=reverse) for key in keys))
        if cursor is None:
            return list(ordered[:limit])
        rows: list = []
        for condition in _beyond(keys, cursor):
            rows.extend(ordered.filter(condition)[: limit - len(rows)])
            if len(rows) >= limit:
                break
        return rows

    # --- Cursors and links --------------------------------------------------------------------

    def decode_cursor(self, request, keys: list[Key]) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:  # absent, or empty as in ?cursor= (DRF's first page too)
            return None
        try:
            payload = signing.Signer(salt=CURSOR_SALT).unsign_object(encoded)
        except (signing.BadSignature, ValueError, UnicodeError):
            raise _bad_cursor(BAD_CURSOR) from None
        if not isinstance(payload, dict) or set(payload) != {"o", "v", "r", "i"}:
            raise _bad_cursor(BAD_CURSOR)
        if payload["o"] != [key.term() for key in keys]:
            raise _bad_cursor(OTHER_ORDERING)
        values, reverse, inclusive = payload["v"], payload["r"], payload["i"]
        if not isinstance(values, list) or len(values) != len(keys):
            raise _bad_cursor(BAD_CURSOR)
        if reverse not in (0, 1) or inclusive not in (0, 1):
            raise _bad_cursor(BAD_CURSOR)
        try:
            parsed = tuple(
                key.field.to_python(value) for key, value in zip(keys, values, strict=True)
            )
        except (ValidationError, TypeError, ValueError):
            raise _bad_cursor(BAD_CURSOR) from None
        if any(value is None for value in parsed):
            raise _bad_cursor(BAD_CURSOR)
        return Cursor(parsed, bool(reverse), bool(inclusive))

    def encode_cursor(self, keys: list[Key], cursor: Cursor) -> str:
        payload = {
            "o": [key.term() for key in keys],
            "v": [_plain(value) for value in cursor.values],
            "r": int(cursor.reverse),
            "i": int(cursor.inclusive),
        }
        token = signing.Signer(salt=CURSOR_SALT).sign_object(payload)
        return replace_query_param(self._base_url(), self.cursor_query_param, token)

    def get_next_link(self) -> str | None:
        return self.next_cursor and self.encode_cursor(*self.next_cursor)

    def get_previous_link(self) -> str | None:
        return self.previous_cursor and self.encode_cursor(*self.previous_cursor)

    def _neighbours(self, keys: list[Key], page: list, more: bool) -> tuple:
        """(keys, cursor) for the next and the previous link, or None where nothing lies."""
        cursor = self.cursor
        if page:
            first = Cursor(_values(page[0], keys), reverse=True)
            last = Cursor(_values(page[-1], keys), reverse=False)
        elif cursor is not None:
            # Nothing beyond the position (rows removed since the link was made): point back
            # the way we came, to the page that ends on the row at the position itself.
            first = last = Cursor(cursor.values, reverse=not cursor.reverse, inclusive=True)
        else:
            return None, None
        if cursor is None:
            return ((keys, last) if more else None), None
        if cursor.reverse:
            return (keys, last), ((keys, first) if more else None)
        return ((keys, last) if more else None), (keys, first)

    def _base_url(self) -> str:
        return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)

    # --- What the schema and the browsable API show --------------------------------------------

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "nullable": True, "format": "uri"}
        properties = {"next": link, "previous": link, "results": schema}
        if self.with_count:
            properties = {"count": {"type": "integer", "example": 123}, **properties}
        return {"type": "object", "required": ["results"], "properties": properties}

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": force_str(self.cursor_query_description),
                "schema": {"type": "string"},
            }
        ]
        if self.page_size_query_param:
            parameters.append(
                {
                    "name": self.page_size_query_param,
                    "required": False,
                    "in": "query",
                    "description": force_str(self.page_size_query_description),
                    "schema": {"type": "integer"},
                }
            )
        return parameters

    def get_html_context(self) -> dict:
        return {"previous_url": self.get_previous_link(), "next_url": self.get_next_link()}

    def to_html(self) -> str:
        return loader.get_template(self.template).render(self.get_html_context())


def _beyond(keys: list[Key], cursor: Cursor) -> list[Q]:
    """The conditions for the rows beyond the cursor, in reading order (see rows_after)."""
    runs: list[tuple[int, int]] = []
    for index, key in enumerate(keys):
        if runs and keys[runs[-1][0]].descending == key.descending:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    conditions = []
    for start, end in reversed(runs):
        operator = "<" if keys[start].descending != cursor.reverse else ">"
        if cursor.inclusive and end == len(keys):  # only the deepest run may hold the row
            operator += "="
        run = list(zip(keys[start:end], cursor.values[start:end], strict=True))
        beyond = RowComparison(
            [F(key.field.attname) for key, _ in run],
            operator,
            [Value(value, output_field=key.field) for key, value in run],
        )
        same = {
            key.field.attname: value
            for key, value in zip(keys[:start], cursor.values[:start], strict=True)
        }
        conditions.append(Q(beyond, **same))
    return conditions


def _local_field(model, name: str) -> Field:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        raise ImproperlyConfigured(f"{model.__name__} has no field {name!r} to page by") from None
    if not field.concrete or field.is_relation or field.null:
        raise ImproperlyConfigured(f"Keyset pages need a non-null column of their own: {name!r}")
    return field


def _values(row, keys: list[Key]) -> tuple:
    return tuple(getattr(row, key.field.attname) for key in keys)


def _plain(value) -> object:
    """A keyset value as JSON: the model field's to_python reads it back."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    return value


def _bad_cursor(message: str) -> InvalidInput:
    return InvalidInput({"cursor": [message]}, message=message)
