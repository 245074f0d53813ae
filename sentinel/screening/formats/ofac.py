"""OFAC's Specially Designated Nationals list, ``sdn.xml`` (schema ``sdnList.xsd``)."""

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
    text,
    xml_root,
)

_TYPES = {
    "individual": EntryType.PERSON,
    "entity": EntryType.ENTITY,
    "vessel": EntryType.VESSEL,
    "aircraft": EntryType.AIRCRAFT,
}


def _name(element) -> str:
    """OFAC writes a person as lastName and firstName; we keep 'First Last'."""
    return " ".join(
        part for part in (text(element, "firstName"), text(element, "lastName")) if part
    )


def parse_ofac_sdn(content: bytes) -> ParsedList:
    root = strip_namespaces(xml_root(content, expected="sdnList"))
    entries = []
    for number, sdn in enumerate(root.iterfind("sdnEntry"), start=1):
        where = f"sdnEntry {number}"
        kind = text(sdn, "sdnType").lower()
        if kind not in _TYPES:
            raise ListFormatError(
                f"{where}: sdnType {kind!r} is not Individual/Entity/Vessel/Aircraft."
            )
        names = [(_name(sdn), STRONG)]
        for aka in sdn.iterfind("akaList/aka"):
            names.append((_name(aka), WEAK if text(aka, "category").lower() == "weak" else STRONG))
        entries.append(
            entry_build(
                source_id=text(sdn, "uid"),
                entry_type=_TYPES[kind],
                names=names,
                where=where,
                birth_dates=[
                    birth_date(text(item, "dateOfBirth"))
                    for item in sdn.iterfind("dateOfBirthList/dateOfBirthItem")
                ],
                nationalities=[
                    country_code(text(item, "country"))
                    for path in ("nationalityList/nationality", "citizenshipList/citizenship")
                    for item in sdn.iterfind(path)
                ],
                addresses=[
                    address_line(
                        text(item, "address1"),
                        text(item, "city"),
                        text(item, "postalCode"),
                        text(item, "country"),
                    )
                    for item in sdn.iterfind("addressList/address")
                ],
                programmes=[(p.text or "").strip() for p in sdn.iterfind("programList/program")],
                remarks=text(sdn, "remarks"),
            )
        )
    return ParsedList(version=text(root, "publshInformation/Publish_Date"), entries=entries)
