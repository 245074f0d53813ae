"""What an aggregate is: the functions, key kinds and windows a rule can ask for."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

# What an aggregate can be keyed by: the customer side's account or customer, the counterparty
# (its account id, or its normalised name when it has none), the device or the IP address.
KEY_KINDS = ("account", "customer", "counterparty", "device", "ip")
# Functions over a window. ``days_since_previous`` looks back without a window.
FUNCTIONS = (
    "count",
    "sum",
    "avg",
    "max",
    "min",
    "distinct",
    "new_counterparties",
    "days_since_previous",
)
# What ``distinct`` can count.
DISTINCT_FIELDS = ("counterparty", "counterparty_country", "device", "ip")
# Functions of an amount; given ``amount_base`` (``field``), every currency counts, converted
# into the partner's reporting currency (``CurrencyFigures.in_currency``).
AMOUNT_FUNCTIONS = ("sum", "avg", "max", "min")
BASE_AMOUNT = "amount_base"
MAX_WINDOW_SECONDS = 31 * 24 * 3600
_WINDOW = re.compile(r"^(\d{1,6})(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_window(text: str, *, maximum: int = MAX_WINDOW_SECONDS, what: str = "window") -> int:
    """'7d' -> 604800. Raises ValueError with a message fit for a compliance officer."""
    match = _WINDOW.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{what} {text!r} is not a duration such as '90s', '30m', '48h' or '7d'")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not 0 < seconds <= maximum:
        raise ValueError(f"{what} {text!r} must be between 1s and {format_window(maximum)}")
    return seconds


def format_window(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class AggregateSpec:
    """One aggregate a rule needs, independent of the transaction it is computed for.

    Filters are empty for "any". Amount functions (sum, avg, max, min) only consider
    transactions in the scored transaction's currency, since adding yen to dollars means
    nothing; counts and distinct counts consider every currency.
    """

    function: str
    by: str
    within_seconds: int | None = None
    field: str | None = None  # the counted field of ``distinct``; amount functions: BASE_AMOUNT
    types: frozenset[str] = frozenset()
    directions: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()

    # Specs key every aggregate value, dozens of times per transaction on the scoring path:
    # the hash is computed once (the generated one rehashed eight fields at every lookup).
    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash(self._fields()))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self):
        """Rebuilt from its fields, so a copy in another process hashes as that one does."""
        return (AggregateSpec, self._fields())

    def _fields(self) -> tuple:
        return (
            self.function,
            self.by,
            self.within_seconds,
            self.field,
            self.types,
            self.directions,
            self.statuses,
            self.channels,
        )

    def describe(self) -> str:
        """Short human form used in explanations: 'sum(amount, account, 7d, cash_deposit)'."""
        parts = [self.field or ("amount" if self.function in {"sum", "avg", "max", "min"} else "")]
        parts.append(f"by {self.by}")
        if self.within_seconds is not None:
            parts.append(format_window(self.within_seconds))
        for values in (self.types, self.directions, self.statuses, self.channels):
            if values:
                parts.append("/".join(sorted(values)))
        return f"{self.function}({', '.join(part for part in parts if part)})"


@dataclass(frozen=True)
class CurrencyFigures:
    """An amount function over ``amount_base`` before conversion: per currency of the matching
    transactions in the window, its figure in that currency (the sum, or the max or min) and
    how many transactions made it.

    Converted with the rate of the scored transaction's date, the same rate rule as the
    transaction's own ``amount_base`` (``in_currency``): a window's transactions are valued at
    today's rate, not each at its own day's, so a threshold reads in today's money.
    """

    function: str
    figures: dict[str, tuple[Decimal, int]]

    def in_currency(self, rate_of: Callable[[str], Decimal | None], exponent: int):
        """The value in the target currency, rounded half-even to ``exponent`` decimals;
        None when a currency in the window has no rate (``rate_of`` answers None), never a
        total that leaves it out. A sum of nothing is 0; avg, max and min of nothing, None."""
        quantum = Decimal(1).scaleb(-exponent)
        converted = {}
        for currency, (figure, count) in self.figures.items():
            rate = rate_of(currency)
            if rate is None:
                return None
            converted[currency] = (figure * rate, count)
        with localcontext() as context:
            context.prec = 60
            if self.function == "sum":
                total = sum((value for value, _ in converted.values()), Decimal(0))
                return total.quantize(quantum, ROUND_HALF_EVEN)
            if not converted:
                return None
            if self.function == "avg":
                total = sum((value for value, _ in converted.values()), Decimal(0))
                count = sum(count for _, count in converted.values())
                return (total / count).quantize(quantum, ROUND_HALF_EVEN)
            pick = max if self.function == "max" else min
            return pick(value for value, _ in converted.values()).quantize(quantum, ROUND_HALF_EVEN)
