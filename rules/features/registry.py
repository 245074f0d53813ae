"""The providers in force (``settings.SENTINEL_FEATURE_PROVIDERS``) and running them on a batch."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from sentinel import metrics

from ..aggregates import AggregateSpec
from ..expressions import language
from .base import FeatureBatch, FeatureProvider

logger = logging.getLogger(__name__)


@cache
def providers() -> tuple[FeatureProvider, ...]:
    """One instance of each configured provider, in settings order (names unique)."""
    loaded = tuple(import_string(path)() for path in settings.SENTINEL_FEATURE_PROVIDERS)
    names = [provider.name for provider in loaded]
    if len(set(names)) != len(names):
        raise ValueError(f"SENTINEL_FEATURE_PROVIDERS names a provider twice: {names}")
    return loaded


def worker_only() -> frozenset[str]:
    """The providers that do not run in a request (``in_request = False``: the network's
    graph step is the worker's): rules reading them are run for ``?wait=true`` decisions by
    the worker afterwards."""
    return frozenset(provider.name for provider in providers() if not provider.in_request)


def register_fields() -> None:
    """Teach the rule language every provider's fields (rules.apps, at start-up)."""
    for provider in providers():
        for feature in provider.fields:
            language.register_field(
                feature.name,
                feature.type,
                feature.doc,
                choices=feature.choices,
                note=feature.note,
            )


@cache
def provider_of_field(name: str) -> str | None:
    """The provider that offers a field; None for the transaction's own fields."""
    for provider in providers():
        if any(feature.name == name for feature in provider.fields):
            return provider.name
    return None


AGGREGATES = "aggregates"


def provider_aggregates() -> frozenset[AggregateSpec]:
    """The rolling aggregates providers read for themselves (``FeatureProvider.aggregates``),
    computed for every transaction beside those its rules want (read when rules load)."""
    return frozenset(spec for provider in providers() for spec in provider.aggregates)


def providers_needed(*, fields: frozenset[str], aggregates: tuple[AggregateSpec, ...]) -> frozenset:
    """The providers a compiled expression reads from."""
    needed = {provider_of_field(name) for name in fields} - {None}
    if aggregates:
        needed.add(AGGREGATES)
    return frozenset(needed)


@dataclass
class FeatureValues:
    """What the providers gave a batch: per transaction, fields and aggregate values; and the
    providers that failed (their values are missing for the whole batch)."""

    fields: list[dict[str, object]]
    aggregates: list[dict[AggregateSpec, object]]
    failed: frozenset[str] = field(default_factory=frozenset)
    skipped: frozenset[str] = field(default_factory=frozenset)  # not allowed in the request


def features_compute(batch: FeatureBatch, *, in_request: bool = False) -> FeatureValues:
    """Run every provider on the batch. A provider that raises is logged and counted and
    its values left out, so the rules that need it fail for this batch and the rest decide."""
    size = len(batch.transactions)
    values = FeatureValues(fields=[{} for _ in range(size)], aggregates=[{} for _ in range(size)])
    failed, skipped = set(), set()
    batch = replace(batch, earlier_fields=values.fields, earlier_aggregates=values.aggregates)
    for provider in providers():
        if in_request and not provider.in_request:
            skipped.add(provider.name)
            continue
        try:
            computed = provider.values(batch)
            if len(computed) != size:
                raise ValueError(f"gave {len(computed)} results for {size} transactions")
        except Exception:
            logger.exception("Feature provider %r failed on a batch of %d", provider.name, size)
            metrics.count_provider_failure(provider.name)
            failed.add(provider.name)
            continue
        if provider.name == AGGREGATES:
            # Keyed by AggregateSpec only, dozens a transaction: merged whole (dict.update
            # reuses the keys' stored hashes instead of calling AggregateSpec.__hash__).
            for position, mapping in enumerate(computed):
                values.aggregates[position].update(mapping)
            continue
        for position, mapping in enumerate(computed):
            for key, value in mapping.items():
                target = values.aggregates if isinstance(key, AggregateSpec) else values.fields
                target[position][key] = value
    values.failed, values.skipped = frozenset(failed), frozenset(skipped)
    return values
