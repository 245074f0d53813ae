"""CSV downloads: streamed row by row, and safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with one of ``FORMULA_START`` as a formula (CSV
injection): such a text cell is written with a leading apostrophe, which makes it plain text.
Numbers are written as they are (a negative number is a number, not a formula).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import StreamingHttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """The text of one cell: empty for None, numbers as written, other text disarmed."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    value = str(value)
    return "'" + value if value.startswith(FORMULA_START) else value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[Sequence], *, filename: str) -> StreamingHttpResponse:
    """A streamed attachment of ``rows`` (the first is the header), every cell through
    ``csv_cell``."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow([csv_cell(value) for value in row]) for row in rows),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
