"""Readers of the published list formats. Each turns a file's bytes into ``ParsedList``; a file
that is not what its format says raises ``ListFormatError`` naming what is wrong, before
anything is stored."""

from __future__ import annotations

from collections.abc import Callable

from ..choices import ListSource
from .common import ListFormatError, ParsedEntry, ParsedList
from .eu import parse_eu
from .ofac import parse_ofac_sdn
from .ofsi import parse_ofsi
from .opensanctions import parse_opensanctions
from .un import parse_un

PARSERS: dict[str, Callable[[bytes], ParsedList]] = {
    ListSource.OFAC_SDN: parse_ofac_sdn,
    ListSource.EU: parse_eu,
    ListSource.UN: parse_un,
    ListSource.OFSI: parse_ofsi,
    ListSource.OPENSANCTIONS: parse_opensanctions,
}


def parse_list(source: str, content: bytes) -> ParsedList:
    """The entries of ``content`` read as ``source``; ListFormatError if it is not that."""
    if source not in PARSERS:
        raise ListFormatError(f"Unknown list format {source!r}; known: {', '.join(PARSERS)}.")
    parsed = PARSERS[source](content)
    if not parsed.entries:
        raise ListFormatError("The file holds no entries; a list is never emptied by an import.")
    return parsed


__all__ = ["PARSERS", "ListFormatError", "ParsedEntry", "ParsedList", "parse_list"]
