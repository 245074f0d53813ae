"""What every format reader produces, and the helpers they share (safe XML, dates, countries)."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date

import pycountry
from lxml import etree

from ..choices import EntryType, NameStrength

MAX_FILE_BYTES = 200 * 1024 * 1024


class ListFormatError(ValueError):
    """The file is not a valid list in the format it was imported as; nothing was changed."""


@dataclass
class ParsedEntry:
    """One listed subject as read from a file, before it is stored."""

    source_id: str
    entry_type: str
    names: list[dict[str, str]]
    birth_dates: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    programmes: list[str] = field(default_factory=list)
    remarks: str = ""

    def content(self) -> dict:
        """The stored fields (what a diff compares and shows)."""
        return {key: value for key, value in asdict(self).items() if key != "source_id"}

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.content(), sort_keys=True).encode()).hexdigest()


@dataclass
class ParsedList:
    version: str
    entries: list[ParsedEntry]


def entry_build(
    *,
    source_id: str,
    entry_type: str,
    names: list[tuple[str, str]],
    where: str,
    **fields,
) -> ParsedEntry:
    """An entry with its names cleaned and de-duplicated (first one primary); refuses an entry
    without an identifier or a name, naming where it is in the file."""
    source_id = (source_id or "").strip()
    if not source_id:
        raise ListFormatError(f"{where}: an entry has no identifier.")
    if entry_type not in EntryType.values:
        raise ListFormatError(f"{where}: unknown entry type {entry_type!r}.")
    seen: set[str] = set()
    cleaned = []
    for name, strength in names:
        name = " ".join((name or "").split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            cleaned.append({"name": name[:300], "strength": strength})
    if not cleaned:
        raise ListFormatError(f"{where}: entry {source_id} has no name.")
    for key in ("birth_dates", "nationalities", "addresses", "programmes"):
        fields[key] = sorted({value for value in fields.get(key, ()) if value})
    return ParsedEntry(source_id=source_id[:100], entry_type=entry_type, names=cleaned, **fields)


STRONG, WEAK = NameStrength.STRONG.value, NameStrength.WEAK.value

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


def xml_root(content: bytes, *, expected: str) -> etree._Element:
    """The document's root, which must be ``expected`` (namespace ignored). No entities, no
    network: a list file is untrusted input."""
    _check_size(content)
    try:
        root = etree.fromstring(content, parser=_PARSER)
    except etree.XMLSyntaxError as error:
        raise ListFormatError(f"Not well-formed XML: {error}") from None
    if etree.QName(root).localname != expected:
        raise ListFormatError(
            f"Expected a <{expected}> document, got <{etree.QName(root).localname}>: "
            "is this the right format?"
        )
    return root


def strip_namespaces(root: etree._Element) -> etree._Element:
    """Element tags without their namespace, so readers can say ``find("sdnEntry")``."""
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root


def text(element: etree._Element | None, path: str) -> str:
    found = element.find(path) if element is not None else None
    return " ".join((found.text or "").split()) if found is not None else ""


def csv_rows(content: bytes) -> list[list[str]]:
    _check_size(content)
    try:
        decoded = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            decoded = content.decode("cp1252")
        except UnicodeDecodeError:
            raise ListFormatError("The file is neither UTF-8 nor Windows-1252 text.") from None
    try:
        return list(csv.reader(io.StringIO(decoded)))
    except csv.Error as error:
        raise ListFormatError(f"Not a valid CSV file: {error}") from None


def _check_size(content: bytes) -> None:
    if len(content) > MAX_FILE_BYTES:
        raise ListFormatError(f"The file is larger than {MAX_FILE_BYTES // 2**20} MiB.")
    if not content.strip():
        raise ListFormatError("The file is empty.")


_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def birth_date(value: str) -> str:
    """A date of birth as ISO, as precise as published: '1961-07-30', '1961-07' or '1961';
    '' when it holds no year ('circa', 'between' and free text keep their first year)."""
    value = (value or "").strip()
    if not value:
        return ""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return _iso(int(value[:4]), int(value[5:7]), int(value[8:10]))
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value):  # dd/mm/yyyy, 00 unknown
        return _iso(int(m[3]), int(m[2]), int(m[1]))
    if m := re.fullmatch(r"(\d{1,2}) ([A-Za-z]{3})[a-z]* (\d{4})", value):  # 01 Jan 1960
        return _iso(int(m[3]), _MONTHS.get(m[2].lower(), 0), int(m[1]))
    if m := re.fullmatch(r"([A-Za-z]{3})[a-z]* (\d{4})", value):  # Jan 1960
        return _iso(int(m[2]), _MONTHS.get(m[1].lower(), 0), 0)
    year = _YEAR.search(value)
    return year.group(1) if year else ""


def _iso(year: int, month: int, day: int) -> str:
    if not month:
        return f"{year:04d}"
    if not day:
        return f"{year:04d}-{month:02d}"
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else f"{year:04d}"


def country_code(value: str) -> str:
    """ISO 3166-1 alpha-2 of a code or a country's name as lists write it; '' if unknown."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) == 2 and pycountry.countries.get(alpha_2=value.upper()):
        return value.upper()
    return _country_by_name(value.casefold())


_COUNTRY_ALIASES = {
    "russia": "RU",
    "iran": "IR",
    "syria": "SY",
    "north korea": "KP",
    "democratic people's republic of korea": "KP",
    "south korea": "KR",
    "venezuela": "VE",
    "bolivia": "BO",
    "burma": "MM",
    "laos": "LA",
    "vietnam": "VN",
    "tanzania": "TZ",
    "moldova": "MD",
    "turkey": "TR",
    "united kingdom": "GB",
    "uk": "GB",
    "united states": "US",
    "usa": "US",
    "palestine": "PS",
    "congo, democratic republic of the": "CD",
    "democratic republic of the congo": "CD",
}


@functools.lru_cache(maxsize=1024)
def _country_by_name(name: str) -> str:
    if name in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[name]
    try:
        return pycountry.countries.lookup(name).alpha_2
    except LookupError:
        return ""


def address_line(*parts: str) -> str:
    return ", ".join(part.strip() for part in parts if part and part.strip())
