"""Exchange rates: importing the ECB's euro reference rates (``manage.py import_rates``).

Two layouts, both as the ECB publishes them (one euro in each currency):

- the history, ``eurofxref-hist.csv``: ``Date,USD,JPY,...,`` then one row per working day,
  newest first, ``2026-11-20,1.0854,160.25,...,`` with ``N/A`` where a currency had no rate
  that day and an empty last column (each line ends with a comma);
- the day's file, ``eurofxref.csv``: ``Date, USD, JPY, ...`` and a single row
  ``20 November 2026, 1.0854, 160.25, ...`` (spaces after the commas, the date written out).

A file is read whole before anything is written, and written in one database transaction: a
malformed file changes nothing and the error names its line and column. Importing the same
file again changes nothing (every rate is counted as unchanged).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction

from ..choices import RateSource
from ..models import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS, ExchangeRate
from ..selectors import RATE_BASE

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MISSING = "N/A"
_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y")  # the history's, the day's file's
_MAX_INTEGER_DIGITS = RATE_MAX_DIGITS - RATE_DECIMAL_PLACES
_CREATE_BATCH = 5000


class RateFileError(ValidationError):
    """The file is not in the ECB layout; the message says where and why."""


@dataclass(frozen=True)
class RateImport:
    """What an import did: rates added, changed (another value for the same day, pair and
    source) and unchanged, and the days the file covers."""

    added: int
    changed: int
    unchanged: int
    first_day: date
    last_day: date


def exchange_rates_import(*, text: str, source: str = RateSource.ECB) -> RateImport:
    """Store the rates of an ECB reference-rate CSV (either layout); RateFileError when the
    file is malformed, and then nothing is stored."""
    rates = _parse(text)
    days = [day for day, _, _ in rates]
    with db_transaction.atomic():
        stored = {
            (row.date, row.quote): row
            for row in ExchangeRate.objects.select_for_update().filter(
                source=source, base=RATE_BASE, date__gte=min(days), date__lte=max(days)
            )
        }
        added, changed, unchanged = [], [], 0
        for day, quote, rate in rates:
            row = stored.get((day, quote))
            if row is None:
                added.append(
                    ExchangeRate(date=day, base=RATE_BASE, quote=quote, rate=rate, source=source)
                )
            elif row.rate != rate:
                row.rate = rate
                changed.append(row)
            else:
                unchanged += 1
        ExchangeRate.objects.bulk_create(added, batch_size=_CREATE_BATCH)
        ExchangeRate.objects.bulk_update(changed, ["rate", "updated_at"], batch_size=_CREATE_BATCH)
    return RateImport(
        added=len(added),
        changed=len(changed),
        unchanged=unchanged,
        first_day=min(days),
        last_day=max(days),
    )


def _parse(text: str) -> list[tuple[date, str, Decimal]]:
    """(day, currency, rate) of every rate in the file, or RateFileError."""
    lines = list(csv.reader(text.lstrip("\ufeff").splitlines()))
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise RateFileError("The file is empty: expected a header line 'Date,USD,JPY,...'.")
    currencies, trailing = _header(lines[0])
    rates: list[tuple[date, str, Decimal]] = []
    seen_days: dict[date, int] = {}
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, as at the end of a file
        day = _day(cells[0].strip(), number)
        if day in seen_days:
            raise RateFileError(
                f"Line {number}: {day.isoformat()} is also on line {seen_days[day]}."
            )
        seen_days[day] = number
        values = [cell.strip() for cell in cells[1:]]
        # A header ending with a comma (the history's) gives every line one empty cell more.
        if trailing and values and values[-1] == "":
            values.pop()
        elif trailing:
            raise RateFileError(f"Line {number}: the line must end with a comma, as the header.")
        if len(values) != len(currencies):
            raise RateFileError(
                f"Line {number}: {len(values)} rates for {len(currencies)} currencies in the "
                "header."
            )
        for currency, value in zip(currencies, values, strict=True):
            if value != _MISSING:
                rates.append((day, currency, _rate(value, number, currency)))
    if not rates:
        raise RateFileError("The file has no rates: only a header, or every cell is N/A.")
    return rates


def _header(cells: list[str]) -> tuple[list[str], bool]:
    """The currencies of the header, and whether it ends with an empty column."""
    names = [cell.strip() for cell in cells]
    if names[0] != "Date":
        raise RateFileError(
            f"Line 1: the first column must be 'Date', not {names[0]!r} (ECB reference-rate "
            "layout: Date,USD,JPY,...)."
        )
    currencies = names[1:]
    trailing = bool(currencies) and currencies[-1] == ""
    if trailing:
        currencies.pop()
    if not currencies:
        raise RateFileError("Line 1: the header names no currency.")
    for column, name in enumerate(currencies, start=2):
        if not _CURRENCY.match(name):
            raise RateFileError(
                f"Line 1, column {column}: {name!r} is not a three-letter ISO 4217 code."
            )
        if name == RATE_BASE:
            raise RateFileError(
                f"Line 1, column {column}: {RATE_BASE} is the base of ECB rates, not a column."
            )
    repeated = sorted({name for name in currencies if currencies.count(name) > 1})
    if repeated:
        raise RateFileError(f"Line 1: {', '.join(repeated)} appears more than once.")
    return currencies, trailing


def _day(text: str, number: int) -> date:
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(text, layout).date()  # noqa: DTZ007  a calendar day
        except ValueError:
            continue
    raise RateFileError(f"Line {number}: {text!r} is not a date (2026-11-20, or 20 November 2026).")


def _rate(text: str, number: int, currency: str) -> Decimal:
    try:
        rate = Decimal(text)
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or rate <= 0:
        raise RateFileError(f"Line {number}, {currency}: {text!r} is not a positive rate (or N/A).")
    exponent = rate.as_tuple().exponent
    if -exponent > RATE_DECIMAL_PLACES or rate.adjusted() >= _MAX_INTEGER_DIGITS:
        raise RateFileError(
            f"Line {number}, {currency}: {text!r} has more than {RATE_DECIMAL_PLACES} decimals "
            f"or {_MAX_INTEGER_DIGITS} digits before the point."
        )
    return rate
