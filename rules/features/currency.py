"""The transaction's amount in its partner's reporting currency: ``amount_base`` and
``base_currency`` (exchange rates of the transactions app, docs/currencies.md)."""

from __future__ import annotations

from transactions.money import format_amount
from transactions.selectors import Conversion, NoRate

from .base import FeatureBatch, FeatureField, FeatureProvider

NUMBER, STRING = "number", "string"
AMOUNT_BASE_NOTE = "amount_base:note"  # not a name rules can write: only explanations read it


class CurrencyFeatures(FeatureProvider):
    """Converts the batch with one query for the rates (plus one for partners the batch does
    not carry loaded); a transaction without a usable rate has no ``amount_base`` (None: a
    rule reading it fails for that transaction and says which rate is missing), never 0."""

    name = "currency"
    fields = (
        FeatureField(
            "amount_base",
            NUMBER,
            "amount in the partner's reporting currency at the transaction's date (empty when "
            "no exchange rate is stored for it)",
            note=AMOUNT_BASE_NOTE,
        ),
        FeatureField(
            "base_currency",
            STRING,
            "the partner's reporting currency (ISO 4217), the currency of amount_base",
        ),
    )
    needs = frozenset({"database"})
    in_request = True
    budget_us = 30  # measured: 22 µs per transaction in batches of 500 (one query), 2 cores busy

    def values(self, batch: FeatureBatch) -> list[dict[str, object]]:
        return [
            currency_fields(tx.amount, tx.currency, conversion)
            for tx, conversion in zip(batch.transactions, batch.base_amounts, strict=True)
        ]


def currency_fields(amount, currency: str, conversion: Conversion | NoRate) -> dict[str, object]:
    """The provider's fields for one transaction."""
    if not conversion:
        return {
            "amount_base": None,
            "base_currency": conversion.to_currency,
            AMOUNT_BASE_NOTE: str(conversion),
        }
    rate = conversion.rate
    note = rate.to_currency
    if rate.date is not None:
        note += f" ({format_amount(amount, currency)} {currency} at {rate.describe()})"
    return {
        "amount_base": conversion.amount,
        "base_currency": rate.to_currency,
        AMOUNT_BASE_NOTE: note,
    }
