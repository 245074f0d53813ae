"""Named lists rules refer to: CSV import that refuses a file with any bad row."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction

from .. import engine
from ..lists import normalize_entry
from ..models import ListEntry, RuleList

# --- Lists ---------------------------------------------------------------------------------------


@dataclass
class ListImport:
    added: int
    removed: int
    unchanged: int


@db_transaction.atomic
def list_entries_import(*, rule_list: RuleList, csv_text: str, replace: bool = False) -> ListImport:
    """Import ``value[,note]`` rows; any bad row refuses the whole file, naming its row numbers.

    With ``replace`` the list becomes exactly the file; otherwise the file's entries are added.
    """
    rows = _parse_csv(rule_list.kind, csv_text)
    existing = dict(rule_list.entries.values_list("normalized", "id"))
    new = [entry for normalized, entry in rows.items() if normalized not in existing]
    for entry in new:
        entry.rule_list = rule_list
    ListEntry.objects.bulk_create(new)
    removed = 0
    if replace:
        stale = [pk for normalized, pk in existing.items() if normalized not in rows]
        removed = ListEntry.objects.filter(pk__in=stale).delete()[0]
    rule_list.save(update_fields=["updated_at"])
    engine.rules_changed()
    return ListImport(added=len(new), removed=removed, unchanged=len(rows) - len(new))


_CSV_HEADER = ("value", "note")
MAX_IMPORT_ROWS = 200_000


def _parse_csv(kind: str, csv_text: str) -> dict[str, ListEntry]:
    errors: list[str] = []
    rows: dict[str, ListEntry] = {}
    reader = csv.reader(io.StringIO(csv_text))
    for number, row in enumerate(reader, start=1):
        if number == 1 and tuple(cell.strip().lower() for cell in row[:2]) in (
            _CSV_HEADER,
            _CSV_HEADER[:1],
        ):
            continue
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) > 2:
            errors.append(
                f"row {number}: expected value and an optional note, got {len(row)} columns"
            )
            continue
        value, note = row[0].strip(), (row[1].strip() if len(row) > 1 else "")
        try:
            normalized = normalize_entry(kind, value)
        except ValueError as error:
            errors.append(f"row {number}: {error}")
            continue
        if len(value) > 200 or len(note) > 200:
            errors.append(f"row {number}: value and note are limited to 200 characters")
            continue
        rows.setdefault(normalized, ListEntry(value=value, normalized=normalized, note=note))
        if len(rows) > MAX_IMPORT_ROWS:
            raise ValidationError(f"A list holds at most {MAX_IMPORT_ROWS:,} entries.")
    if errors:
        shown = errors[:20] + (
            [f"... and {len(errors) - 20} more rows"] if len(errors) > 20 else []
        )
        raise ValidationError(["Nothing was imported.", *shown])
    return rows


def list_entry_normalize(*, kind: str, value: str) -> str:
    """For forms: the stored form of a value, or ValidationError saying what is wrong."""
    try:
        return normalize_entry(kind, value)
    except ValueError as error:
        raise ValidationError(str(error)) from None
