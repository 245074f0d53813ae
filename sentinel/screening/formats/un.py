"""The UN Security Council consolidated list, XML (``CONSOLIDATED_LIST``)."""

from __future__ import annotations

from ..choices import EntryType
from .common import (
    STRONG,
    WEAK,
    ParsedList,
    address_line,
    birth_date,
    country_code,
    entry_build,
    text,
    xml_root,
)

_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")


def parse_un(content: bytes) -> ParsedList:
    root = xml_root(content, expected="CONSOLIDATED_LIST")
    entries = []
    for kind, path, prefix in (
        (EntryType.PERSON, "INDIVIDUALS/INDIVIDUAL", "INDIVIDUAL"),
        (EntryType.ENTITY, "ENTITIES/ENTITY", "ENTITY"),
    ):
        for number, subject in enumerate(root.iterfind(path), start=1):
            names = [(" ".join(filter(None, (text(subject, p) for p in _NAME_PARTS))), STRONG)]
            names.append((text(subject, "NAME_ORIGINAL_SCRIPT"), STRONG))
            for alias in subject.iterfind(f"{prefix}_ALIAS"):
                quality = text(alias, "QUALITY").lower()
                names.append((text(alias, "ALIAS_NAME"), WEAK if quality == "low" else STRONG))
            entries.append(
                entry_build(
                    source_id=text(subject, "REFERENCE_NUMBER") or text(subject, "DATAID"),
                    entry_type=kind,
                    names=names,
                    where=f"{prefix} {number}",
                    birth_dates=[
                        birth_date(text(item, "DATE") or text(item, "YEAR"))
                        for item in subject.iterfind(f"{prefix}_DATE_OF_BIRTH")
                    ],
                    nationalities=[
                        country_code(value.text or "")
                        for value in subject.iterfind("NATIONALITY/VALUE")
                    ],
                    addresses=[
                        address_line(
                            text(item, "STREET"), text(item, "CITY"), text(item, "COUNTRY")
                        )
                        for item in subject.iterfind(f"{prefix}_ADDRESS")
                    ],
                    programmes=[text(subject, "UN_LIST_TYPE")],
                    remarks=text(subject, "COMMENTS1"),
                )
            )
    return ParsedList(version=root.get("dateGenerated", ""), entries=entries)
