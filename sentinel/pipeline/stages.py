"""The pipeline's stages, in the order a batch goes through them (orchestrator.py).

Each stage is one step on a batch: it takes what the previous one gave and returns what the
next one needs. Stages own nothing but their step: the orchestrator owns the database
transaction, retries and the order. Each calls the service of the app that owns the step, so
the apps below never call up: transactions ← rules ← alerts ← cases, with the pipeline above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from django.conf import settings

from alerts.services import (
    AlertChanges,
    alerts_from_hits,
    alerts_page_on_call,
    webhooks_for_decisions,
)
from cases.models import Case
from cases.services import cases_from_alerts
from rules import engine
from rules.engine import Evaluation, RuleSet
from rules.features import FeatureValues, worker_only
from rules.selectors import evaluations_stored
from rules.services import decision_rules_add, decisions_store
from sentinel import metrics
from sentinel.network.services import network_extend
from sentinel.pipeline.rings import rings_through
from sentinel.riskmodel.services import decision_features_store
from transactions.models import Transaction
from transactions.services import account_profiles_fold, transactions_claim_unprofiled

Profiles = dict[tuple[int, str], dict | None]


def claim(transaction_ids: Sequence) -> list[Transaction]:
    """The batch: those of these transactions not processed yet, locked for this run."""
    return transactions_claim_unprofiled(transaction_ids=transaction_ids)


def profile(batch: Sequence[Transaction]) -> Profiles:
    """Fold the batch into its customers, accounts and account profiles."""
    return account_profiles_fold(transactions=batch)


def network(batch: Sequence[Transaction]) -> None:
    """Add the batch's transfers to the partner's transaction graph and search from each for
    the cycle it closes or the chain it extends (read by the ``network`` features next).
    Nothing when network analytics is off (``SENTINEL_NETWORK_ANALYTICS``)."""
    if settings.SENTINEL_NETWORK_ANALYTICS:
        network_extend(transactions=batch)


def undecided(batch: Sequence[Transaction]) -> tuple[list[Transaction], list[Evaluation]]:
    """Split the batch: transactions still to score, and the decisions ``?wait=true`` already
    made for the others (which still go through alerts, cases and notify)."""
    earlier = evaluations_stored(transactions=batch)
    decided = {evaluation.transaction.id for evaluation in earlier}
    return [tx for tx in batch if tx.id not in decided], earlier


def features(
    batch: Sequence[Transaction], profiles: Profiles, ruleset: RuleSet, *, in_request: bool
) -> FeatureValues:
    """Every feature provider's values for the batch (profile fields, rolling aggregates and
    whatever detection families are configured); a failing provider is left out."""
    return engine.batch_features(batch, profiles=profiles, ruleset=ruleset, in_request=in_request)


def rules(
    batch: Sequence[Transaction], values: FeatureValues, ruleset: RuleSet
) -> list[Evaluation]:
    """Run the rules in scope on each transaction."""
    return engine.evaluate_batch(batch, features=values, ruleset=ruleset)


def late_rules(
    earlier: Sequence[Evaluation], profiles: Profiles, ruleset: RuleSet
) -> list[Evaluation]:
    """For decisions ``?wait=true`` made: run the rules the request had to leave out (they
    read a provider only the worker runs, the network's graph step) and add their hits to the
    stored decision; the decisions with those hits joined, for alerts. Nothing when no
    running rule reads such a provider."""
    only_here = worker_only()
    if not earlier or not only_here or not ruleset.reads_any(only_here):
        return list(earlier)
    batch = [evaluation.transaction for evaluation in earlier]
    values = engine.batch_features(batch, profiles=profiles, ruleset=ruleset, in_request=False)
    late = engine.evaluate_batch(batch, features=values, ruleset=ruleset, reading=only_here)
    decision_rules_add(late)
    return [
        replace(evaluation, hits=[*evaluation.hits, *added.hits])
        for evaluation, added in zip(earlier, late, strict=True)
    ]


def decision(evaluations: Sequence[Evaluation]) -> list[Evaluation]:
    """Store the decisions with their hits and failures; the evaluations whose decision this
    call stored (a concurrent ``?wait=true`` may have stored one first)."""
    stored = decisions_store(evaluations)
    mine = [evaluation for evaluation in evaluations if evaluation.transaction.id in stored]
    metrics.count_decisions(evaluation.outcome for evaluation in mine)
    for evaluation in mine:
        for rule, _ in evaluation.failures:
            metrics.count_rule_failure(rule.code)
    return mine


def snapshots(
    batch: Sequence[Transaction], values: FeatureValues, decided: Sequence[Evaluation]
) -> None:
    """Keep, beside each decision just stored, what the model provider built and said: the
    point-in-time features training reads, the score, its version and its explanation.
    Nothing when the risk model is off (``SENTINEL_RISK_MODEL``)."""
    if not settings.SENTINEL_RISK_MODEL:
        return
    decision_features_store(
        transactions=batch,
        fields=values.fields,
        stored={evaluation.transaction.id for evaluation in decided},
    )


def alerts(evaluations: Sequence[Evaluation]) -> AlertChanges:
    """Open or update de-duplicated alerts for the live hits (announced after the commit);
    a network rule's alert carries the pattern found through its transaction."""
    return alerts_from_hits(evaluations=evaluations, rings=rings_through(evaluations))


def cases(changes: AlertChanges) -> list[Case]:
    """Take the new and changed alerts into their subjects' cases."""
    return cases_from_alerts(alerts=changes.alerts)


def notify(evaluations: Sequence[Evaluation], changes: AlertChanges) -> None:
    """What leaves the system, after the commit: partner webhooks for review and block
    decisions (outbox rows written now, delivered by a task with retries) and the on-call
    email. Live pushes to investigators leave after the commit from the alert and case
    services themselves."""
    webhooks_for_decisions(evaluations=evaluations)
    alerts_page_on_call(changes=changes)
