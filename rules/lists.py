"""How list values are normalised and matched: the same function serves import and scoring.

Names match whatever their case, accents, punctuation or word order ("José  MARÍA Pérez" is
"perez jose maria"); countries and banks are upper-cased; IP entries may be networks.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Mapping

import pycountry

from .choices import ListKind

_COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)
_NOT_WORD = re.compile(r"[^\w]+")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9._:/-]{1,128}$")


def fold(text: str) -> str:
    """Case folded, accents stripped: 'José' -> 'jose'. The base of every name comparison."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@functools.lru_cache(maxsize=65_536)  # scoring meets the same counterparties again and again
def normalize_name(value: str) -> str:
    """Words of the folded name, without punctuation, in alphabetical order."""
    words = _NOT_WORD.split(fold(value).replace("_", " "))
    return " ".join(sorted(word for word in words if word))


def normalize_entry(kind: str, value: str) -> str:
    """The form an entry is stored and matched in; ValueError with a reason if it is not valid."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValueError("empty value")
    if kind == ListKind.NAME:
        normalized = normalize_name(text)
        if not normalized:
            raise ValueError(f"{value!r} has no letters or digits")
        return normalized[:200]
    if kind == ListKind.COUNTRY:
        code = text.upper()
        if code not in _COUNTRIES:
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return code
    if kind == ListKind.IP:
        try:
            return str(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network") from None
    if not _IDENTIFIER.match(text):
        raise ValueError(f"{value!r} is not a valid identifier (letters, digits and ._:/- only)")
    return text.upper() if kind == ListKind.BANK else text


class ListSnapshot:
    """The lists rules use, held in memory by each scoring process; membership in O(1)."""

    def __init__(self, lists: Mapping[str, tuple[str, Iterable[str]]]):
        # name -> (kind, normalised entries)
        self._kinds: dict[str, str] = {}
        self._values: dict[str, frozenset[str]] = {}
        self._networks: dict[str, tuple] = {}
        for name, (kind, entries) in lists.items():
            self._kinds[name] = kind
            values = frozenset(entries)
            if kind == ListKind.IP:
                networks = [ipaddress.ip_network(entry) for entry in values]
                self._networks[name] = tuple(net for net in networks if net.num_addresses > 1)
                values = frozenset(str(net.network_address) for net in networks)
            self._values[name] = values

    def __contains__(self, name: str) -> bool:
        return name in self._kinds

    def contains(self, name: str, value: object) -> bool:
        kind = self._kinds.get(name)
        if kind is None:
            raise LookupError(f"list {name!r} does not exist")
        if value is None or value == "" or not (self._values[name] or self._networks.get(name)):
            return False  # an empty list (the shipped sanctions list) costs no normalising
        text = str(value)
        if kind == ListKind.NAME:
            return normalize_name(text) in self._values[name]
        if kind in (ListKind.COUNTRY, ListKind.BANK):
            return text.upper() in self._values[name]
        if kind == ListKind.IP:
            return self._ip_in(name, text)
        return text in self._values[name]

    def _ip_in(self, name: str, text: str) -> bool:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return False
        if str(address) in self._values[name]:
            return True
        return any(address in network for network in self._networks[name])
