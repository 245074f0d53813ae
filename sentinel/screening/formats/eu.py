"""The EU's consolidated list of financial sanctions, XML (``export`` of ``sanctionEntity``)."""

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
    entry_build,
    strip_namespaces,
    xml_root,
)

_TYPES = {"person": EntryType.PERSON, "enterprise": EntryType.ENTITY}


def parse_eu(content: bytes) -> ParsedList:
    root = strip_namespaces(xml_root(content, expected="export"))
    entries = []
    for number, subject in enumerate(root.iterfind("sanctionEntity"), start=1):
        where = f"sanctionEntity {number}"
        kind = (
            subject.find("subjectType").get("code", "")
            if subject.find("subjectType") is not None
            else ""
        )
        if kind not in _TYPES:
            raise ListFormatError(f"{where}: subjectType {kind!r} is not person or enterprise.")
        names = [
            (
                alias.get("wholeName")
                or " ".join(
                    filter(None, (alias.get(k) for k in ("firstName", "middleName", "lastName")))
                ),
                STRONG if alias.get("strong", "true") == "true" else WEAK,
            )
            for alias in subject.iterfind("nameAlias")
        ]
        entries.append(
            entry_build(
                source_id=subject.get("euReferenceNumber") or subject.get("logicalId", ""),
                entry_type=_TYPES[kind],
                names=names,
                where=where,
                birth_dates=[
                    birth_date(item.get("birthdate") or item.get("year", ""))
                    for item in subject.iterfind("birthdate")
                ],
                nationalities=[
                    country_code(item.get("countryIso2Code", ""))
                    for item in subject.iterfind("citizenship")
                ],
                addresses=[
                    address_line(
                        item.get("street", ""),
                        item.get("city", ""),
                        item.get("zipCode", ""),
                        item.get("countryDescription", ""),
                    )
                    for item in subject.iterfind("address")
                ],
                programmes=[item.get("programme", "") for item in subject.iterfind("regulation")],
                remarks=" ".join((item.text or "").strip() for item in subject.iterfind("remark")),
            )
        )
    return ParsedList(version=root.get("generationDate", ""), entries=entries)
