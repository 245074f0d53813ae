"""HM Treasury OFSI's consolidated list, CSV (``ConList.csv``): one row per name, rows of one
subject sharing a ``Group ID``; the first line says when it was last updated."""

from __future__ import annotations

from ..choices import EntryType
from .common import (
    STRONG,
    WEAK,
    ListFormatError,
    ParsedList,
    address_line,
    birth_date,
    country_code,
    csv_rows,
    entry_build,
)

_TYPES = {"individual": EntryType.PERSON, "entity": EntryType.ENTITY, "ship": EntryType.VESSEL}
REQUIRED = ("Name 6", "Name 1", "Group Type", "Group ID")


def parse_ofsi(content: bytes) -> ParsedList:
    rows = csv_rows(content)
    version = ""
    if rows and rows[0] and rows[0][0].strip().lower() == "last updated":
        version = rows[0][1].strip() if len(rows[0]) > 1 else ""
        rows = rows[1:]
    if not rows:
        raise ListFormatError("No header row.")
    header = [cell.strip() for cell in rows[0]]
    if missing := [column for column in REQUIRED if column not in header]:
        raise ListFormatError(f"Not an OFSI consolidated list: no column {', '.join(missing)}.")
    groups: dict[str, list[dict[str, str]]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ListFormatError(
                f"row {number}: {len(row)} columns, the header has {len(header)}."
            )
        record = dict(zip(header, (cell.strip() for cell in row), strict=True))
        record["_row"] = str(number)
        groups.setdefault(record["Group ID"], []).append(record)
    return ParsedList(version=version, entries=[_entry(g, rows) for g, rows in groups.items()])


def _entry(group_id: str, rows: list[dict[str, str]]) -> object:
    first = rows[0]
    where = f"row {first['_row']}"
    kind = first["Group Type"].lower()
    if kind not in _TYPES:
        raise ListFormatError(f"{where}: Group Type {first['Group Type']!r} is not known.")
    rows = sorted(rows, key=lambda row: row.get("Alias Type", "") != "Primary name")
    names = []
    for row in rows:
        parts = [row.get(f"Name {i}", "") for i in range(1, 6)] + [row.get("Name 6", "")]
        strength = WEAK if row.get("Alias Quality", "").lower() == "low" else STRONG
        names.append((" ".join(part for part in parts if part), strength))
        names.append((row.get("Name Non-Latin Script", ""), STRONG))
    return entry_build(
        source_id=group_id,
        entry_type=_TYPES[kind],
        names=names,
        where=where,
        birth_dates=[birth_date(row.get("DOB", "")) for row in rows],
        nationalities=[country_code(row.get("Nationality", "")) for row in rows],
        addresses=[
            address_line(
                *(row.get(f"Address {i}", "") for i in range(1, 7)), row.get("Country", "")
            )
            for row in rows
        ],
        programmes=[row.get("Regime", "") for row in rows],
        remarks=first.get("Other Information", ""),
    )
