"""The rolling aggregates (``count(by=…, within=…)``, ``sum(amount, …)`` …), kept in Redis."""

from __future__ import annotations

from ..aggregates import (
    AggregateSpec,
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
    needs = frozenset({"redis"})
    in_request = True
    budget_us = 100

    def values(self, batch: FeatureBatch) -> list[dict[AggregateSpec, object]]:
        events = [event_from_transaction(tx) for tx in batch.transactions]
        if batch.preview:
            return aggregates_preview(events, batch.specs)
        return aggregates_record_and_compute(events, batch.specs, wanted=batch.wanted)
