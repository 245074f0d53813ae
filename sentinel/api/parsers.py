"""JSON parsing that keeps money exact and refuses what JSON does not define."""

from __future__ import annotations

import json
from decimal import Decimal

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def loads_strict(raw: bytes | str) -> object:
    """Fractional numbers become Decimal, never float; NaN, Infinity and repeated keys fail."""
    return json.loads(
        raw,
        parse_float=Decimal,
        parse_constant=_refuse_constant,
        object_pairs_hook=_refuse_duplicate_keys,
    )


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw:
            raise ParseError("The request body is empty; a JSON object was expected.")
        try:
            return loads_strict(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ParseError("The request body is not UTF-8.") from exc
        except ValueError as exc:
            raise ParseError(f"Malformed JSON: {exc}.") from exc
