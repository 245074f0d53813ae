"""What a rule expression may name: fields, parties, functions, filter values, and its limits.

docs/rules.md is the reference compliance officers read; keep the two in step.
"""

from __future__ import annotations

import ast
import re

from rules.aggregates import FUNCTIONS as AGGREGATE_FUNCTIONS
from transactions.choices import Channel, Direction, TransactionStatus, TransactionType

NUMBER, STRING, BOOL, LIST = "number", "string", "bool", "list"
# Types only literals have: a list of numbers after ``in``, and ``null`` beside ``==``/``!=``.
NUMBERS, NULL = "numbers", "null"

PARTIES = {
    "customer": "the partner's own customer (originator when outbound, beneficiary when inbound)",
    "counterparty": "the other side of the transaction",
    "originator": "the side the money comes from",
    "beneficiary": "the side the money goes to",
}
PARTY_FIELDS = {
    "account_id": "account identifier",
    "customer_id": "customer identifier",
    "name": "name (as the partner sent it)",
    "country": "country (ISO 3166-1 alpha-2 code)",
    "bank": "bank (BIC or routing number)",
}
_FIELDS = (
    ("amount", NUMBER, "amount, in the transaction's currency"),
    ("latency_ms", NUMBER, "processing time the partner reported, in milliseconds (may be empty)"),
    ("hour", NUMBER, "UTC hour of occurred_at, 0 to 23"),
    ("weekday", NUMBER, "day of the week of occurred_at (UTC), 0 = Monday to 6 = Sunday"),
    ("currency", STRING, "ISO 4217 currency code, such as EUR"),
    ("type", STRING, "transaction type: " + ", ".join(TransactionType.values)),
    ("status", STRING, "status: " + ", ".join(TransactionStatus.values)),
    ("direction", STRING, "inbound (the customer receives) or outbound (the customer pays)"),
    ("channel", STRING, "channel: " + ", ".join(Channel.values) + " (may be empty)"),
    ("mcc", STRING, "merchant category code, four digits"),
    ("device_id", STRING, "device identifier"),
    ("ip_address", STRING, "IP address the transaction came from"),
    ("product", STRING, "the partner's product name, such as debit"),
    ("acquirer", STRING, "card acquirer"),
    ("card_type", STRING, "card scheme or type, such as visa"),
    ("partner", STRING, "slug of the partner bank that sent the transaction"),
    *(
        (f"{party}.{name}", STRING, f"{doc} of {party_doc}")
        for party, party_doc in PARTIES.items()
        for name, doc in PARTY_FIELDS.items()
    ),
)
# The transaction's own fields. Feature providers (rules.features) add theirs at start-up
# through ``register_field``: the profile's, and every detection family's after it.
FIELDS: dict[str, str] = {name: type_ for name, type_, _ in _FIELDS}
FIELD_DOCS: dict[str, str] = {name: doc for name, _, doc in _FIELDS}
# Fields with a closed set of values: a literal compared with them is checked at compile time.
ENUM_FIELDS: dict[str, tuple[str, ...]] = {
    "type": tuple(TransactionType.values),
    "status": tuple(TransactionStatus.values),
    "direction": tuple(Direction.values),
    "channel": tuple(Channel.values),
}
# Names written ``owner.field``: the parties, and each provider's namespace ("profile").
NAMESPACES: set[str] = set(PARTIES)
# field -> the key of a text its provider gives beside it, shown after its value in
# explanations and failures ("amount_base = 1,085.00 EUR (1,000.00 USD at ...)").
FIELD_NOTES: dict[str, str] = {}
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")


def register_field(
    name: str, type_: str, doc: str, *, choices: tuple[str, ...] = (), note: str = ""
) -> None:
    """Make a provider's field a name expressions may use: ``namespace.name``, or a plain name
    for a property of the transaction itself that needs a provider's data (``amount_base``)."""
    if not _FIELD_NAME.match(name):
        raise ValueError(f"feature {name!r} must be written namespace.name (or name) in lower case")
    if type_ not in (NUMBER, STRING, BOOL, LIST):
        raise ValueError(f"feature {name!r} has an unknown type {type_!r}")
    namespace = name.split(".", 1)[0] if "." in name else None
    reserved = (*FUNCTION_NAMES, *LITERAL_NAMES, *NAMESPACES)
    if (
        name in FIELDS
        and FIELDS[name] != type_
        or namespace in PARTIES
        or (namespace is None and name in reserved)
    ):
        raise ValueError(f"feature {name!r} clashes with a field the language already has")
    FIELDS[name], FIELD_DOCS[name] = type_, doc
    if namespace:
        NAMESPACES.add(namespace)
    if choices:
        ENUM_FIELDS[name] = tuple(choices)
    if note:
        FIELD_NOTES[name] = note


# keyword -> (AggregateSpec attribute, allowed values)
FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "type": ("types", tuple(TransactionType.values)),
    "direction": ("directions", tuple(Direction.values)),
    "status": ("statuses", tuple(TransactionStatus.values)),
    "channel": ("channels", tuple(Channel.values)),
}
# name -> (argument types, result type); each argument is a tuple of the types it accepts.
SIMPLE_FUNCTIONS: dict[str, tuple[tuple[tuple[str, ...], ...], str]] = {
    "abs": (((NUMBER,),), NUMBER),
    "round": (((NUMBER,),), NUMBER),  # plus an optional literal number of decimals
    "lower": (((STRING,),), STRING),
    "upper": (((STRING,),), STRING),
    "startswith": (((STRING,), (STRING,)), BOOL),
    "len": (((STRING, LIST),), NUMBER),
}
FUNCTION_NAMES = (*AGGREGATE_FUNCTIONS, "list", *SIMPLE_FUNCTIONS)
LITERAL_NAMES = ("true", "false", "null")

MAX_SOURCE_CHARS = 4000
MAX_NODES = 300
MAX_DEPTH = 32
MAX_NUMBER = 10**15
# A literal as written is kept (and explained) digit for digit: 1e-999999999 is a valid Decimal
# of a billion digits once formatted. Decimals are bounded like money and rates need, and an
# exponent may not push the digits beyond MAX_NUMBER either way (0e999999999 included).
MAX_DECIMAL_PLACES = 10
MAX_EXPONENT = 15
MAX_STRING_CHARS = 256
MAX_LIST_ITEMS = 1000
MAX_ROUND_DIGITS = 10
LIST_NAME = re.compile(r"^[a-z0-9_]{1,64}$")

# How the compiler names types and operators, and what it says of what it refuses.
TYPE_NAMES = {
    NUMBER: "a number",
    STRING: "a string",
    BOOL: "true or false",
    LIST: "a list",
    NUMBERS: "a list of numbers",
    NULL: "null",
}
COMPARISONS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}
REFUSED_OPERATORS = {
    ast.Pow: "'**' (power) is not allowed",
    ast.FloorDiv: "'//' is not allowed; use '/'",
    ast.BitAnd: "'&' is not allowed; use 'and'",
    ast.BitOr: "'|' is not allowed; use 'or'",
    ast.BitXor: "'^' is not allowed",
    ast.LShift: "'<<' is not allowed",
    ast.RShift: "'>>' is not allowed",
    ast.MatMult: "'@' is not allowed",
    ast.Invert: "'~' is not allowed; use 'not'",
    ast.Is: "'is' is not allowed; use '==' (for example latency_ms == null)",
    ast.IsNot: "'is not' is not allowed; use '!=' (for example latency_ms != null)",
}
_COMPREHENSION = "comprehensions (for … in …) are not allowed"
REFUSED_NODES = {
    ast.Lambda: "lambda is not allowed",
    ast.IfExp: "'… if … else …' is not allowed; combine conditions with and/or",
    ast.ListComp: _COMPREHENSION,
    ast.SetComp: _COMPREHENSION,
    ast.DictComp: _COMPREHENSION,
    ast.GeneratorExp: _COMPREHENSION,
    ast.Subscript: "indexing with [ ] is not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.NamedExpr: "':=' is not allowed",
    ast.Dict: "{ } is not allowed; write lists with [ ]",
    ast.Set: "{ } is not allowed; write lists with [ ]",
    ast.List: "a list can only follow 'in' or 'not in'",
    ast.Tuple: "a list can only follow 'in' or 'not in'",
}
