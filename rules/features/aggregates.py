"""The rolling aggregates (``count(by=…, within=…)``, ``sum(amount, …)`` …), kept in Redis."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from transactions.models import Transaction
from transactions.money import minor_units
from transactions.selectors import Conversion, NoRate, RateBook, rate_date

from ..aggregates import (
    BASE_AMOUNT,
    AggregateSpec,
    CurrencyFigures,
    aggregates_preview,
    aggregates_record_and_compute,
    event_from_transaction,
)
from .base import FeatureBatch, FeatureProvider


class AggregateFeatures(FeatureProvider):
    """Records the batch in the rolling aggregates and computes what the rules in each
    transaction's scope ask, in one Redis call (rules.aggregates). Its values are keyed by
    AggregateSpec; the aggregate functions of the rule language are its interface."""

    name = "aggregates"
    needs = frozenset({"redis", "database"})
    in_request = True
    budget_us = 100

    def values(self, batch: FeatureBatch) -> list[dict[AggregateSpec, object]]:
        events = [event_from_transaction(tx) for tx in batch.transactions]
        if batch.preview:
            values = aggregates_preview(events, batch.specs)
        else:
            values = aggregates_record_and_compute(events, batch.specs, wanted=batch.wanted)
        return in_reporting_currency(
            batch.transactions, values, lambda: batch.base_amounts, specs=batch.specs
        )


def in_reporting_currency(
    transactions: Sequence[Transaction],
    values: list[dict[AggregateSpec, object]],
    base_amounts,
    *,
    specs: Collection[AggregateSpec] | None = None,
) -> list[dict[AggregateSpec, object]]:
    """Amount functions over ``amount_base`` come from the store per currency
    (CurrencyFigures): each becomes one amount in the transaction's reporting currency, every
    currency converted at the rate of the transaction's date (the rule of its own amount_base),
    with one rate query for the batch. A currency without a rate leaves no value (None), never
    a total without it. ``base_amounts`` (a callable, read only when needed) gives each
    transaction's Conversion or NoRate, which name its reporting currency. ``specs``, when
    given, are all the values' keys: only those over amount_base are looked at (the scoring
    path's values are mostly counts)."""
    if specs is None:
        specs = {spec for row in values for spec in row}
    over_base = [spec for spec in specs if spec.field == BASE_AMOUNT]
    pending = [
        (position, spec, value)
        for position, row in enumerate(values)
        for spec in over_base
        if isinstance(value := row.get(spec), CurrencyFigures)
    ]
    if not pending:
        return values
    targets: list[tuple[str, object]] = [
        (_reporting_currency(conversion), rate_date(tx.occurred_at))
        for tx, conversion in zip(transactions, base_amounts(), strict=True)
    ]
    book = RateBook.load(
        (currency, *targets[position])
        for position, _, figures in pending
        for currency in figures.figures
    )
    for position, spec, figures in pending:
        target, day = targets[position]

        def rate_of(currency: str, target=target, day=day):
            applied = book.rate(currency, target, day)
            return applied.rate if applied else None

        values[position][spec] = figures.in_currency(rate_of, minor_units(target))
    return values


def _reporting_currency(conversion: Conversion | NoRate) -> str:
    return conversion.currency if conversion else conversion.to_currency
