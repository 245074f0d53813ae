"""Feature providers: the seam through which a family of per-transaction values becomes
available to the rule language, to explanations and to scoring, without touching the engine.

A provider is a ``FeatureProvider`` subclass (base.py) listed in
``settings.SENTINEL_FEATURE_PROVIDERS``. At start-up its fields join the rule language
(``registry.register_fields``); in the pipeline's *features* stage every provider computes its
values for the batch (``features_compute``), and the engine hands them to the rules. A provider
that fails degrades the decision instead of stopping it: the rules that read it are recorded
as failed and the decision names the provider it was made without.

Shipped: ``profile`` (profile.py), ``aggregates`` (aggregates.py) and ``currency``
(currency.py: ``amount_base``, ``base_currency``). A new detection family
(network analytics, screening, a model score) is one module with a provider class, plus one
line in the setting.
"""

from .base import FeatureBatch, FeatureField, FeatureKey, FeatureProvider
from .registry import (
    FeatureValues,
    features_compute,
    provider_aggregates,
    provider_of_field,
    providers,
    providers_needed,
    register_fields,
    worker_only,
)

__all__ = [
    "FeatureBatch",
    "FeatureField",
    "FeatureKey",
    "FeatureProvider",
    "FeatureValues",
    "features_compute",
    "provider_aggregates",
    "provider_of_field",
    "providers",
    "providers_needed",
    "register_fields",
    "worker_only",
]
