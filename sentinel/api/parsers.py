"""JSON parsing that keeps money exact and refuses what JSON does not define."""

from __future__ import annotations

import json
from decimal import Decimal

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deeper than any transaction (a batch, a transaction, a party or metadata, and room inside
# metadata). Without a limit, 100,000 nested brackets exhaust the parser's recursion: a 500.
MAX_DEPTH = 32


class NestingTooDeep(ParseError):
    """Refused JSON nested beyond MAX_DEPTH; the error body's code says so."""

    error_code = "nesting_too_deep"
    default_detail = f"The JSON is nested deeper than {MAX_DEPTH} levels."


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
    """Fractional numbers become Decimal, never float; NaN, Infinity and repeated keys fail;
    nesting deeper than MAX_DEPTH raises NestingTooDeep."""
    try:
        value = json.loads(
            raw,
            parse_float=Decimal,
            parse_constant=_refuse_constant,
            object_pairs_hook=_refuse_duplicate_keys,
        )
    except RecursionError:
        raise NestingTooDeep() from None
    if _deeper_than(value, MAX_DEPTH):
        raise NestingTooDeep()
    return value


def _deeper_than(value: object, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` levels; iterative, stops early."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


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
