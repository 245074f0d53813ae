"""Named lists rules refer to: CSV import that refuses a file with any bad row, and four eyes
on removing entries."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction

from transactions.signals import flagged_accounts_announce

from .. import engine, selectors
from ..choices import ChangeKind, ListKind
from ..lists import normalize_entry
from ..models import ListEntry, RuleChange, RuleList
from .changes import change_record, change_request

# --- Lists ---------------------------------------------------------------------------------------
# Adding entries makes lists match more and applies at once; removing entries (by hand or by
# importing a file that replaces the list) matches less and waits for a second officer.


@dataclass
class ListImport:
    added: int
    removed: int
    unchanged: int
    awaiting_removal: int = 0
    awaiting_addition: int = 0
    change: RuleChange | None = None


@db_transaction.atomic
def list_entries_import(
    *,
    rule_list: RuleList,
    csv_text: str,
    replace: bool = False,
    actor=None,
    comment: str = "",
) -> ListImport:
    """Import ``value[,note]`` rows; any bad row refuses the whole file, naming its row numbers.

    The file's new entries are added at once, unless a live rule reads the list as exemptions
    (``not in list(...)``): then they wait for a second officer too. With ``replace`` the list
    is to become exactly the file: the entries not in it are removed once a second officer
    approves (``change``).
    """
    rule_list = RuleList.objects.select_for_update().get(pk=rule_list.pk)
    rows = _parse_csv(rule_list.kind, csv_text)
    existing = {entry.normalized: entry for entry in rule_list.entries.all()}
    stale = [entry for normalized, entry in existing.items() if normalized not in rows]
    new = [entry for normalized, entry in rows.items() if normalized not in existing]
    now, change = _split(
        rule_list=rule_list,
        add=new,
        remove=stale if replace else [],
        actor=actor,
        comment=comment,
    )
    _add(rule_list=rule_list, entries=now, actor=actor, comment=comment)
    return ListImport(
        added=len(now),
        removed=0,
        unchanged=len(rows) - len(new),
        awaiting_removal=len(stale) if change and replace else 0,
        awaiting_addition=len(new) - len(now),
        change=change,
    )


@db_transaction.atomic
def list_entries_edit(
    *,
    rule_list: RuleList,
    actor,
    added: Sequence[ListEntry] = (),
    noted: Sequence[ListEntry] = (),
    removed: Sequence[ListEntry] = (),
    comment: str = "",
) -> RuleChange | None:
    """The list's admin page: new entries and changed notes at once, removals as a request
    (returned), additions too when a live rule reads the list as exemptions. An entry's value
    never changes in place: that would remove the old value."""
    rule_list = RuleList.objects.select_for_update().get(pk=rule_list.pk)
    foreign = [e for e in [*noted, *removed] if e.pk is None or e.rule_list_id != rule_list.pk]
    if foreign:
        raise ValidationError("Those entries are not on this list.")
    existing = set(rule_list.entries.values_list("normalized", flat=True))
    fresh: dict[str, ListEntry] = {}
    for entry in added:
        entry.normalized = list_entry_normalize(kind=rule_list.kind, value=entry.value)
        if entry.normalized not in existing:
            fresh.setdefault(entry.normalized, entry)
    now, change = _split(
        rule_list=rule_list, add=list(fresh.values()), remove=removed, actor=actor, comment=comment
    )
    for entry in noted:
        ListEntry.objects.filter(pk=entry.pk).update(note=entry.note)
    _add(rule_list=rule_list, entries=now, actor=actor, comment=comment)
    return change


def _split(
    *,
    rule_list: RuleList,
    add: list[ListEntry],
    remove: Sequence[ListEntry],
    actor,
    comment: str,
) -> tuple[list[ListEntry], RuleChange | None]:
    """The additions that apply now, and the request for what must wait (or None)."""
    exempting = selectors.list_exempting_rules(rule_list=rule_list) if add else []
    later = add if exempting else []
    if not (remove or later):
        return add, None
    payload = {"remove": [_shown(entry) for entry in remove], "add": [_shown(e) for e in later]}
    if exempting:
        payload["exempting_rules"] = exempting
    change = change_request(
        kind=ChangeKind.LIST, rule_list=rule_list, payload=payload, actor=actor, comment=comment
    )
    return ([] if exempting else add), change


def _add(*, rule_list: RuleList, entries: list[ListEntry], actor, comment: str) -> None:
    for entry in entries:
        entry.rule_list = rule_list
    ListEntry.objects.bulk_create(entries)
    rule_list.save(update_fields=["updated_at"])
    if entries:
        change_record(
            actor=actor,
            kind=ChangeKind.LIST,
            target_status="",
            rule_list=rule_list,
            payload={
                "add_total": len(entries),
                "add": [_shown(entry) for entry in entries[:HISTORY_ROWS]],
            },
            comment=comment,
        )
        engine.rules_changed()
        if rule_list.kind == ListKind.ACCOUNT:  # may be a watch list (proximity)
            flagged_accounts_announce(partner_id=None, accounts=[e.normalized for e in entries])


def _shown(entry: ListEntry) -> dict[str, str]:
    return {"value": entry.value, "normalized": entry.normalized, "note": entry.note}


HISTORY_ROWS = 1000
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
