"""ISO 4217 currencies and their minor units: the precision every amount must respect."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pycountry

# ISO 4217 minor units that differ from the usual two decimals.
_MINOR_UNITS = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}
# Precious metals, special drawing rights, bond-market units and test codes are not money that
# moves between accounts.
_NOT_TRANSACTIONAL = frozenset("XAG XAU XPD XPT XBA XBB XBC XBD XDR XSU XUA XTS XXX".split())
MAX_AMOUNT = Decimal(10) ** 13
CURRENCIES = frozenset(
    currency.alpha_3
    for currency in pycountry.currencies
    if currency.alpha_3 not in _NOT_TRANSACTIONAL
)


def minor_units(currency: str) -> int:
    """Number of decimals the currency allows (JPY 0, USD 2, KWD 3)."""
    return _MINOR_UNITS.get(currency, 2)


def decimals_used(amount: Decimal) -> int:
    """Significant decimals of the value: 1500.00 uses 0, 12.50 uses 1."""
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def format_amount(amount: Decimal, currency: str) -> str:
    """Amount with exactly the currency's decimals, as banks print it."""
    return f"{amount.quantize(Decimal(1).scaleb(-minor_units(currency))):,}"


def convert(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """``amount`` times ``rate``, rounded half-even to the minor unit of ``currency`` (the
    target): the one rounding every conversion uses. Exact up to the rounding: the product is
    taken with enough digits for any amount and rate Sentinel stores."""
    with localcontext() as context:
        context.prec = 60
        return (amount * rate).quantize(
            Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_EVEN
        )
