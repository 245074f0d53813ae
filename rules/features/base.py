"""The feature-provider interface: how a family of per-transaction values reaches the rules."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

from transactions.models import Transaction
from transactions.selectors import Conversion, NoRate, transactions_amount_base

from ..aggregates import AggregateSpec

# A value's key: a field name ("profile.risk_rating") or, for the rolling aggregates, the
# AggregateSpec a rule's function call compiled to.
FeatureKey = str | AggregateSpec


@dataclass(frozen=True)
class FeatureField:
    """A name the rule language accepts, its type (rules.expressions.language) and its doc."""

    name: str
    type: str
    doc: str
    choices: tuple[str, ...] = ()  # a closed set of values: literals are checked at compile time
    # The key of a text the provider gives beside the value, shown after it in explanations.
    note: str = ""


@dataclass(frozen=True)
class FeatureBatch:
    """What providers are given: the batch, the profile stage's output and what rules want.

    ``profiles`` maps (partner id, customer-side account id) to the cached profile (None for an
    account not profiled yet). ``wanted`` holds, per transaction, the aggregate specs of the
    rules in its scope; ``preview`` asks for values without recording anything ("try it").
    """

    transactions: Sequence[Transaction]
    profiles: Mapping[tuple[int, str], dict | None]
    specs: Collection[AggregateSpec] = ()
    wanted: Sequence[Collection[AggregateSpec]] = ()
    preview: bool = False
    # What the providers listed before this one gave, per transaction (fields and aggregate
    # values, the provider specs of ``aggregates`` included): a provider that combines other
    # families (a model score) reads them here instead of computing them again.
    earlier_fields: Sequence[Mapping[str, object]] = ()
    earlier_aggregates: Sequence[Mapping[AggregateSpec, object]] = ()

    def profile_of(self, tx: Transaction) -> dict | None:
        return self.profiles.get((tx.partner_id, tx.account_external_id))

    @cached_property
    def base_amounts(self) -> list[Conversion | NoRate]:
        """Each transaction's amount in its partner's reporting currency at its date
        (transactions.selectors.transactions_amount_base), read once per batch for every
        provider that needs it (the currency fields, rolling aggregates over amount_base)."""
        return transactions_amount_base(self.transactions)


class FeatureProvider(ABC):
    """A family of features. Subclass, fill in the class attributes, implement ``values``, and
    list the class in ``settings.SENTINEL_FEATURE_PROVIDERS``: the rule language, explanations
    and scoring pick it up with no other change.

    - ``name``: short and unique; also the namespace of its fields ("network" for
      ``network.in_cycle``) and the label of its failures. A field may be a plain name
      (``amount_base``) when it is a property of the transaction itself.
    - ``fields``: what it offers the rule language (empty for the aggregate functions, which
      are parametric and compile to specs).
    - ``needs``: what it reads besides the transaction ("profile": the profile stage's output;
      "redis", "database"), for readers and for the degraded-decision note.
    - ``in_request``: whether ``?wait=true`` may run it (it must fit a payment's authorisation
      time); otherwise its fields have no value in the request and the worker's scoring is the
      one that uses them.
    - ``budget_us``: the worker CPU it may cost per transaction, in microseconds; ``make bench``
      measures each provider against it.
    - ``aggregates``: rolling aggregates it reads whatever the rules ask; they are computed in
      the aggregates provider's one Redis call and given in ``batch.earlier_aggregates`` (list
      the provider after ``aggregates`` in the setting).
    - ``replayable``: its values for a stored transaction can be read again later (from what
      the worker stored), so back-tests and "try it" run it for the rules that read it.
    """

    name: ClassVar[str]
    fields: ClassVar[tuple[FeatureField, ...]] = ()
    needs: ClassVar[frozenset[str]] = frozenset()
    in_request: ClassVar[bool] = True
    budget_us: ClassVar[int] = 50
    aggregates: ClassVar[tuple[AggregateSpec, ...]] = ()
    replayable: ClassVar[bool] = False

    @abstractmethod
    def values(self, batch: FeatureBatch) -> list[dict[FeatureKey, object]]:
        """One mapping per transaction of the batch, in order: feature key -> value (None
        when the transaction has no value). Raise to say the provider failed for the batch:
        the rules that need it are then recorded as failed and the decision says so."""
