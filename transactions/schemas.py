"""The transaction payload of the ingest contract, validated strictly.

Pydantic (v2, compiled validators) is used instead of a DRF serializer because ingest validates
thousands of items per second: it is several times faster and reports every problem with its
path. No coercion: a number where a string is expected is an error, unknown fields are errors.
"""

from __future__ import annotations

import hashlib
import json
import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import pycountry
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .choices import INBOUND_BY_DEFAULT
from .money import CURRENCIES, MAX_AMOUNT, decimals_used, minor_units

MAX_FUTURE = timedelta(minutes=5)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
METADATA_MAX_BYTES = 4096
_AMOUNT_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,4})?$"


def _parse_amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise PydanticCustomError("amount_type", "Must be a decimal string or a number.")
    if isinstance(value, str):
        text = value.strip()
        if not text or text != value or not all(c.isdigit() or c in ".-+" for c in text):
            raise PydanticCustomError("amount_format", "Must be a decimal number such as 1500.00.")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise PydanticCustomError(
                "amount_format", "Must be a decimal number such as 1500.00."
            ) from exc
    amount = Decimal(value)
    if not amount.is_finite():
        raise PydanticCustomError("amount_format", "Must be a finite number.")
    if amount <= 0:
        raise PydanticCustomError("amount_positive", "Must be greater than zero.")
    if amount >= MAX_AMOUNT:
        raise PydanticCustomError("amount_too_large", "Must be less than 10^13.")
    return amount


def _parse_timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise PydanticCustomError("timestamp_type", "Must be an ISO 8601 string with an offset.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "timestamp_format", "Must be an ISO 8601 timestamp such as 2026-11-22T09:00:00Z."
        ) from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PydanticCustomError(
            "timestamp_offset", "Must include a UTC offset, for example Z or +01:00."
        )
    moment = moment.astimezone(UTC)
    if moment > datetime.now(UTC) + MAX_FUTURE:
        raise PydanticCustomError(
            "timestamp_future", "Must not be more than 5 minutes in the future."
        )
    if moment < EARLIEST:
        raise PydanticCustomError("timestamp_past", "Must not be before 1970.")
    return moment


COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)


def _parse_country(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 2 or not value.isalpha():
        raise PydanticCustomError("country", "Must be an ISO 3166-1 alpha-2 country code.")
    code = value.upper()
    if code not in COUNTRIES:
        raise PydanticCustomError(
            "country", "Unknown ISO 3166-1 alpha-2 country code {code}.", {"code": value}
        )
    return code


def _parse_currency(value: Any) -> str:
    if not isinstance(value, str) or value not in CURRENCIES:
        raise PydanticCustomError("currency", "Must be an ISO 4217 currency code such as USD.")
    return value


def _parse_ip(value: Any) -> str:
    """The address in canonical form; inet_pton is strict (no leading zeros, no zone ids)."""
    if isinstance(value, str) and value.isascii():
        for family in (socket.AF_INET, socket.AF_INET6):
            try:
                return socket.inet_ntop(family, socket.inet_pton(family, value))
            except OSError:
                continue
    raise PydanticCustomError("ip_address", "Must be an IPv4 or IPv6 address.")


Identifier = Annotated[StrictStr, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
ShortText = Annotated[StrictStr, StringConstraints(min_length=1, max_length=64)]
Amount = Annotated[
    Decimal,
    BeforeValidator(_parse_amount),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "string", "pattern": _AMOUNT_PATTERN},
                {"type": "number", "exclusiveMinimum": 0, "maximum": 9999999999999},
            ],
            "description": "Decimal string or number, > 0, < 10^13, in the currency's decimals.",
            "examples": ["1500.00"],
        }
    ),
]
Timestamp = Annotated[
    datetime,
    BeforeValidator(_parse_timestamp),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Country = Annotated[
    str,
    BeforeValidator(_parse_country),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{2}$"}),
]
Currency = Annotated[
    str,
    BeforeValidator(_parse_currency),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$", "examples": ["USD"]}),
]
IpAddress = Annotated[
    str, BeforeValidator(_parse_ip), WithJsonSchema({"type": "string", "format": "ip"})
]


class PartyIn(BaseModel):
    """One side of a transaction; only the customer side's account_id is required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: Identifier | None = None
    customer_id: Identifier | None = None
    name: Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)] | None = None
    country: Country | None = None
    bank: ShortText | None = None


class TransactionIn(BaseModel):
    """A transaction as a partner sends it (../shared/contract.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="TransactionRequest")

    external_id: Identifier
    occurred_at: Timestamp
    amount: Amount
    currency: Currency
    type: Literal[
        "transfer",
        "wire",
        "ach",
        "p2p",
        "card_payment",
        "cash_deposit",
        "cash_withdrawal",
        "refund",
    ]
    status: Literal["approved", "failed", "denied", "reversed"] = "approved"
    direction: Literal["outbound", "inbound"] | None = Field(
        default=None,
        description="Which side is the partner's customer; inbound by default for cash_deposit "
        "and refund, outbound otherwise.",
    )
    channel: Literal["web", "mobile", "branch", "atm", "pos", "api", "other"] | None = None
    originator: PartyIn = PartyIn()
    beneficiary: PartyIn = PartyIn()
    device_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)] | None = None
    ip_address: IpAddress | None = None
    product: ShortText | None = None
    acquirer: ShortText | None = None
    card_type: ShortText | None = None
    mcc: Annotated[StrictStr, StringConstraints(pattern=r"^[0-9]{4}$")] | None = None
    latency_ms: Annotated[StrictInt, Field(ge=0, le=3_600_000)] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict, description="At most 4 KiB as JSON.")

    @field_validator("metadata")
    @classmethod
    def _metadata_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        value = _json_safe(value)
        if len(json.dumps(value, separators=(",", ":")).encode()) > METADATA_MAX_BYTES:
            raise PydanticCustomError("metadata_size", "Must be at most 4 KiB as JSON.")
        return value

    @model_validator(mode="after")
    def _contract_rules(self) -> TransactionIn:
        if self.direction is None:
            default = "inbound" if self.type in INBOUND_BY_DEFAULT else "outbound"
            object.__setattr__(self, "direction", default)
        allowed = minor_units(self.currency)
        if decimals_used(self.amount) > allowed:
            raise _field_error(
                "amount", f"{self.currency} allows at most {allowed} decimal places."
            )
        side = self.customer_side
        if getattr(self, side).account_id is None:
            raise _field_error(
                f"{side}.account_id",
                f"Required: in an {self.direction} transaction the {side} is the "
                "partner's customer.",
            )
        return self

    @property
    def customer_side(self) -> str:
        return "originator" if self.direction == "outbound" else "beneficiary"

    def fingerprint(self) -> str:
        """SHA-256 of the normalised payload: equal for replays whatever the formatting."""
        canonical = self.model_dump(mode="json")
        canonical["amount"] = str(self.amount.normalize())
        encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(encoded.encode()).hexdigest()


class _FieldError(ValueError):
    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


def _field_error(path: str, message: str) -> _FieldError:
    return _FieldError(path, message)


def _json_safe(value: Any) -> Any:
    """Metadata numbers parsed as Decimal go back to JSON numbers (metadata is never money)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "Unknown field.",
    "string_type": "Must be a string.",
    "int_type": "Must be an integer.",
    "dict_type": "Must be a JSON object.",
    "model_type": "Must be a JSON object.",
    "model_attributes_type": "Must be a JSON object.",
    "literal_error": None,  # pydantic's message lists the allowed values
    "string_pattern_mismatch": None,
}


def validate_transaction(data: Any) -> tuple[TransactionIn | None, dict[str, list[str]]]:
    """The validated payload, or None and the problems keyed by dotted path."""
    if not isinstance(data, dict):
        return None, {"non_field_errors": ["Each transaction must be a JSON object."]}
    try:
        return TransactionIn.model_validate(data), {}
    except ValidationError as exc:
        return None, _errors_by_path(exc)


def _errors_by_path(exc: ValidationError) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        context = error.get("ctx", {}).get("error")
        if isinstance(context, _FieldError):
            path, message = context.path, context.message
        else:
            path = ".".join(str(part) for part in error["loc"]) or "non_field_errors"
            message = _MESSAGES.get(error["type"]) or error["msg"]
            if error["type"] == "string_pattern_mismatch" and path.endswith(
                ("external_id", "account_id", "customer_id")
            ):
                message = "Must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'."
        fields.setdefault(path, []).append(message)
    return fields
