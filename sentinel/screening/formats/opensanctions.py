"""OpenSanctions' simplified targets CSV (``targets.simple.csv``): one row per entity,
multiple values separated by ``;``. Its PEP collections import as a list of kind PEP."""

from __future__ import annotations

from ..choices import EntryType
from .common import (
    STRONG,
    ListFormatError,
    ParsedList,
    birth_date,
    country_code,
    csv_rows,
    entry_build,
)

_TYPES = {
    "person": EntryType.PERSON,
    "organization": EntryType.ENTITY,
    "company": EntryType.ENTITY,
    "legalentity": EntryType.ENTITY,
    "publicbody": EntryType.ENTITY,
    "vessel": EntryType.VESSEL,
    "airplane": EntryType.AIRCRAFT,
}
REQUIRED = ("id", "schema", "name", "aliases", "birth_date", "countries")


def parse_opensanctions(content: bytes) -> ParsedList:
    rows = csv_rows(content)
    if not rows:
        raise ListFormatError("No header row.")
    header = [cell.strip() for cell in rows[0]]
    if missing := [column for column in REQUIRED if column not in header]:
        raise ListFormatError(
            f"Not an OpenSanctions targets.simple.csv: no column {', '.join(missing)}."
        )
    entries, last_change = [], ""
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ListFormatError(
                f"row {number}: {len(row)} columns, the header has {len(header)}."
            )
        record = dict(zip(header, row, strict=True))
        schema = record["schema"].strip().lower()
        if schema not in _TYPES:
            raise ListFormatError(f"row {number}: schema {record['schema']!r} is not screened.")
        last_change = max(last_change, record.get("last_change", ""))
        entries.append(
            entry_build(
                source_id=record["id"],
                entry_type=_TYPES[schema],
                names=[(name, STRONG) for name in [record["name"], *_many(record["aliases"])]],
                where=f"row {number}",
                birth_dates=[birth_date(value) for value in _many(record["birth_date"])],
                nationalities=[country_code(value) for value in _many(record["countries"])],
                addresses=_many(record.get("addresses", "")),
                programmes=_many(record.get("sanctions", ""))[:20],
            )
        )
    return ParsedList(version=last_change, entries=entries)


def _many(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]
