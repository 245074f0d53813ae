"""Scoring: the running rules of this process, and what they make of a batch of transactions.

Every process (web and worker) keeps the compiled shadow and live rules and the lists they use
in memory. Any change to rules, lists or thresholds bumps a generation counter in Redis after
the commit; processes look at it at most every ``GENERATION_CHECK_SECONDS`` and reload when it
moved, so an approved or paused rule applies everywhere within that time, with no restart.
Expressions are compiled once per version (versions never change) and kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction as db_transaction

from sentinel.redis import get_redis, redis_key
from transactions.models import PartnerBank, Transaction

from .aggregates import AggregateSpec
from .choices import (
    DECISION_RANK,
    RUNNING_STATUSES,
    DecisionOutcome,
    RuleOutcome,
    RuleStatus,
)
from .expressions import CompiledExpression, EvaluationContext, RuleRuntimeError, compile_expression
from .features import (
    FeatureBatch,
    FeatureValues,
    features_compute,
    provider_aggregates,
    providers_needed,
)
from .features.profile import profile_fields
from .lists import ListSnapshot

logger = logging.getLogger(__name__)

GENERATION_CHECK_SECONDS = 0.5
_OUTCOME_OF_HIT = {
    RuleOutcome.ALERT: DecisionOutcome.ALLOW,
    RuleOutcome.REVIEW: DecisionOutcome.REVIEW,
    RuleOutcome.BLOCK: DecisionOutcome.BLOCK,
}


@dataclass(frozen=True)
class RunningRule:
    """A rule version as scoring needs it: compiled, with its scope."""

    rule_id: int
    code: str
    version_id: int
    version: int
    shadow: bool
    severity: str
    score: int
    outcome: str
    partner_ids: frozenset[int]
    types: frozenset[str]
    typologies: tuple[str, ...]
    suppression_seconds: int
    expression: CompiledExpression
    providers: frozenset[str] = frozenset()  # the feature providers its expression reads

    def applies_to(self, partner_id: int, type_: str) -> bool:
        return (not self.partner_ids or partner_id in self.partner_ids) and (
            not self.types or type_ in self.types
        )


@dataclass
class RuleSet:
    rules: tuple[RunningRule, ...]
    lists: ListSnapshot
    review_score: int
    block_score: int
    specs: tuple[AggregateSpec, ...] = ()
    _scoped: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        specs: dict[AggregateSpec, None] = {}
        for rule in self.rules:
            specs.update(dict.fromkeys(rule.expression.aggregates))
        specs.update(dict.fromkeys(sorted(provider_aggregates(), key=repr)))
        self.specs = tuple(specs)

    def reads_any(self, providers: frozenset[str]) -> bool:
        """Whether some running rule reads one of these feature providers."""
        return any(rule.providers & providers for rule in self.rules)

    def rules_for(self, partner_id: int, type_: str) -> tuple[RunningRule, ...]:
        return self._scope(partner_id, type_)[0]

    def specs_for(self, partner_id: int, type_: str) -> frozenset[AggregateSpec]:
        """The aggregates the rules in scope need, and those providers read for themselves:
        all a transaction's scoring computes."""
        return self._scope(partner_id, type_)[1]

    def _scope(self, partner_id: int, type_: str) -> tuple:
        key = (partner_id, type_)
        scope = self._scoped.get(key)
        if scope is None:
            rules = tuple(rule for rule in self.rules if rule.applies_to(partner_id, type_))
            specs = frozenset().union(
                provider_aggregates(), *(rule.expression.aggregates for rule in rules)
            )
            scope = self._scoped[key] = (rules, specs)
        return scope

    def outcome(self, live_hits: Sequence[RunningRule]) -> tuple[str, int]:
        """Strongest live outcome, raised by the score thresholds; score = sum of live scores."""
        score = sum(rule.score for rule in live_hits)
        outcome = max(
            (_OUTCOME_OF_HIT[rule.outcome] for rule in live_hits),
            key=DECISION_RANK.__getitem__,
            default=DecisionOutcome.ALLOW,
        )
        if score >= self.block_score:
            outcome = DecisionOutcome.BLOCK
        elif score >= self.review_score and outcome == DecisionOutcome.ALLOW:
            outcome = DecisionOutcome.REVIEW
        return str(outcome), score


@dataclass
class Evaluation:
    """What the running rules made of one transaction."""

    transaction: Transaction
    outcome: str
    score: int
    hits: list[tuple[RunningRule, str]]  # (rule, explanation), live and shadow
    failures: list[tuple[RunningRule, str]]
    evaluated: int
    degraded: frozenset[str] = frozenset()  # providers that failed: decided without them

    @property
    def live_hits(self) -> list[tuple[RunningRule, str]]:
        return [(rule, why) for rule, why in self.hits if not rule.shadow]

    def payload(self) -> dict:
        """The contract's decision object, as rules.selectors.decision_payload gives it once
        stored (live hits only, highest score first)."""
        hits = sorted(self.live_hits, key=lambda hit: (-hit[0].score, hit[0].code))
        payload = {
            "outcome": self.outcome,
            "score": self.score,
            "hits": [
                {
                    "rule": rule.code,
                    "version": rule.version,
                    "severity": rule.severity,
                    "explanation": explanation,
                }
                for rule, explanation in hits
            ],
        }
        if self.degraded:
            payload["degraded"] = sorted(self.degraded)
        return payload


# --- Loading and caching the running rules ----------------------------------------------------

_compiled: dict[int, CompiledExpression] = {}
_lock = threading.Lock()
_state: dict[str, object] = {"ruleset": None, "generation": None, "checked": 0.0}


def load_ruleset() -> RuleSet:
    """Read the running rules, their lists and the thresholds from the database."""
    from .models import DecisionThresholds, Rule

    running = (
        Rule.objects.filter(status__in=RUNNING_STATUSES, version__isnull=False)
        .select_related("version")
        .prefetch_related("version__partners")
        .order_by("code")
    )
    rules = tuple(
        running_rule(rule.version, code=rule.code, shadow=rule.status == RuleStatus.SHADOW)
        for rule in running
    )
    thresholds = DecisionThresholds.objects.filter(pk=1).first() or DecisionThresholds()
    return RuleSet(
        rules=rules,
        lists=load_lists(set().union(*(rule.expression.lists for rule in rules))),
        review_score=thresholds.review_score,
        block_score=thresholds.block_score,
    )


def running_rule(version, *, code: str, shadow: bool) -> RunningRule:
    """A rule version ready to run; its expression compiled once per process."""
    compiled = _compiled.get(version.id)
    if compiled is None:
        compiled = _compiled[version.id] = compile_expression(version.expression)
    return RunningRule(
        rule_id=version.rule_id,
        code=code,
        version_id=version.id,
        version=version.number,
        shadow=shadow,
        severity=version.severity,
        score=version.score,
        outcome=version.outcome,
        partner_ids=frozenset(partner.id for partner in version.partners.all()),
        types=frozenset(version.transaction_types),
        typologies=tuple(version.typologies),
        suppression_seconds=version.suppression_seconds,
        expression=compiled,
        providers=providers_needed(fields=compiled.fields, aggregates=compiled.aggregates),
    )


def load_lists(names: set[str]) -> ListSnapshot:
    """The named lists, normalised entries in memory. A missing list is an empty one, so a rule
    naming a deleted list stops matching instead of failing on every transaction."""
    from .models import RuleList

    found = {
        rule_list.name: (rule_list.kind, [entry.normalized for entry in rule_list.entries.all()])
        for rule_list in RuleList.objects.filter(name__in=names).prefetch_related("entries")
    }
    for name in names - set(found):
        logger.warning("Rules refer to list %r, which does not exist; it matches nothing.", name)
        found[name] = ("account", [])
    return ListSnapshot(found)


def current_ruleset() -> RuleSet:
    """This process's running rules, reloaded when another process changed them."""
    now = time.monotonic()
    ruleset = _state["ruleset"]
    if ruleset is not None and now - _state["checked"] < GENERATION_CHECK_SECONDS:
        return ruleset
    generation = _generation()
    with _lock:
        if ruleset is None or generation is None or generation != _state["generation"]:
            ruleset = _state["ruleset"] = load_ruleset()
            _state["generation"] = generation
        _state["checked"] = now
    return ruleset


def forget() -> None:
    """Drop this process's running rules; the next call reloads them (tests, after a change)."""
    _state["ruleset"] = None
    _state["generation"] = None


def rules_changed() -> None:
    """Call inside the transaction that changed rules, lists or thresholds."""
    db_transaction.on_commit(_bump_generation, robust=True)


def _bump_generation() -> None:
    _state["ruleset"] = None
    get_redis().incr(redis_key("rules", "generation"))


def _generation() -> bytes | None:
    try:
        return get_redis().get(redis_key("rules", "generation")) or b"0"
    except Exception:  # noqa: BLE001  without Redis, reload every time rather than trust stale rules
        logger.warning("Rule generation unavailable; reloading rules from the database.")
        return None


# --- Evaluating ----------------------------------------------------------------------------------


def evaluate_transactions(
    transactions: Sequence[Transaction],
    *,
    profiles: Mapping[tuple[int, str], dict | None],
    ruleset: RuleSet | None = None,
    in_request: bool = False,
) -> list[Evaluation]:
    """Compute the batch's features (every provider, rules.features) and run the rules on
    each transaction: the *features* and *rules* stages of the pipeline in one call.

    ``profiles`` maps (partner id, customer-side account id) to the cached profile dict.
    """
    ruleset = ruleset or current_ruleset()
    features = batch_features(
        transactions, profiles=profiles, ruleset=ruleset, in_request=in_request
    )
    return evaluate_batch(transactions, features=features, ruleset=ruleset)


def batch_features(
    transactions: Sequence[Transaction],
    *,
    profiles: Mapping[tuple[int, str], dict | None],
    ruleset: RuleSet,
    in_request: bool = False,
) -> FeatureValues:
    """Every feature provider's values for the batch, with the aggregate specs the rules in
    each transaction's scope want."""
    return features_compute(
        FeatureBatch(
            transactions=transactions,
            profiles=profiles,
            specs=ruleset.specs,
            wanted=[ruleset.specs_for(tx.partner_id, tx.type) for tx in transactions],
        ),
        in_request=in_request,
    )


def evaluate_batch(
    transactions: Sequence[Transaction],
    *,
    features: FeatureValues,
    ruleset: RuleSet,
    reading: frozenset[str] | None = None,
) -> list[Evaluation]:
    """Run the rules on each transaction with the features the providers computed; with
    ``reading``, only the rules that read one of those providers."""
    unavailable = features.failed | features.skipped
    return [
        evaluate_one(
            tx,
            ruleset=ruleset,
            context=EvaluationContext(
                fields={**transaction_fields(tx), **provided},
                aggregates=aggregate_values,
                lists=ruleset.lists,
            ),
            unavailable=unavailable,
            degraded=features.failed,
            reading=reading,
        )
        for tx, provided, aggregate_values in zip(
            transactions, features.fields, features.aggregates, strict=True
        )
    ]


def evaluate_one(
    tx: Transaction,
    *,
    ruleset: RuleSet,
    context: EvaluationContext,
    unavailable: frozenset[str] = frozenset(),
    degraded: frozenset[str] = frozenset(),
    reading: frozenset[str] | None = None,
) -> Evaluation:
    """Run every rule in scope (with ``reading``, those reading one of these providers); a
    rule that fails is recorded and counted as not hit.

    A rule reading a provider in ``unavailable`` is not run: it fails when the provider failed
    (``degraded``), and is left out when the provider may not run here (``?wait=true``)."""
    hits: list[tuple[RunningRule, str]] = []
    failures: list[tuple[RunningRule, str]] = []
    rules = ruleset.rules_for(tx.partner_id, tx.type)
    if reading is not None:
        rules = tuple(rule for rule in rules if rule.providers & reading)
    for rule in rules:
        if missing := rule.providers & unavailable:
            if missing & degraded:
                failures.append(
                    (rule, f"feature provider unavailable: {', '.join(sorted(missing & degraded))}")
                )
            continue
        try:
            if not rule.expression.evaluate(context):
                continue
            hits.append((rule, rule.expression.explain(context)))
        except RuleRuntimeError as error:
            failures.append((rule, str(error)[:500]))
        except Exception as error:  # noqa: BLE001  one broken rule never stops the others
            logger.exception("Rule %s v%s crashed", rule.code, rule.version)
            failures.append((rule, f"internal error: {type(error).__name__}"))
    outcome, score = ruleset.outcome([rule for rule, _ in hits if not rule.shadow])
    return Evaluation(
        transaction=tx,
        outcome=outcome,
        score=score,
        hits=hits,
        failures=failures,
        evaluated=len(rules),
        degraded=degraded & frozenset().union(*(rule.providers for rule in rules)),
    )


_OWN_ONLY = object()


def transaction_fields(tx: Transaction, profile: object = _OWN_ONLY) -> dict[str, object]:
    """The transaction's own fields (rules.expressions.FIELDS); given a profile (a dict, or
    None for an account not profiled yet), the profile's fields too, for the back-tests and
    "try it", which build their own context."""
    customer_side, counterparty_side = tx.customer_side, tx.counterparty_side
    occurred_at = tx.occurred_at
    fields: dict[str, object] = {
        "amount": tx.amount,
        "currency": tx.currency,
        "type": tx.type,
        "status": tx.status,
        "direction": tx.direction,
        "channel": tx.channel,
        "mcc": tx.mcc,
        "device_id": tx.device_id,
        "ip_address": tx.ip_address or "",
        "product": tx.product,
        "acquirer": tx.acquirer,
        "card_type": tx.card_type,
        "latency_ms": None if tx.latency_ms is None else Decimal(tx.latency_ms),
        "hour": Decimal(occurred_at.hour),
        "weekday": Decimal(occurred_at.weekday()),
        "partner": _partner_slug(tx.partner_id),
    }
    for side, alias in (
        ("originator", "originator"),
        ("beneficiary", "beneficiary"),
        (customer_side, "customer"),
        (counterparty_side, "counterparty"),
    ):
        for name in ("account_id", "customer_id", "name", "country", "bank"):
            fields[f"{alias}.{name}"] = getattr(tx, f"{side}_{name}")
    if profile is not _OWN_ONLY:
        fields.update(profile_fields(profile, occurred_at, tx.currency))
    return fields


def _partner_slug(partner_id: int) -> str:
    """Slugs never change, and partners are few: one query per new partner per process."""
    slug = _partner_slugs.get(partner_id)
    if slug is None:
        slug = _partner_slugs[partner_id] = (
            PartnerBank.objects.filter(pk=partner_id).values_list("slug", flat=True).first() or ""
        )
    return slug


_partner_slugs: dict[int, str] = {}
