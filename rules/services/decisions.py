"""Decisions: storing what the rules made of transactions (the pipeline's *decision* stage).

Storing a decision is all this module does; alerts, cases and notifications follow in the
pipeline (sentinel.pipeline), which calls the apps above this one.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from sentinel.db import execute_with_records

from .. import engine
from ..models import RuleFailure, RuleHit

_DECISION_INSERT = """
INSERT INTO rules_decision (
    transaction_id, partner_id, outcome, score, decided_at, rules_evaluated, rules_failed,
    degraded)
SELECT transaction_id, partner_id, outcome, score, decided_at, rules_evaluated, rules_failed,
    ARRAY(SELECT json_array_elements_text(degraded))::varchar(40)[]
FROM json_to_recordset(%s::json) AS r(
    transaction_id uuid, partner_id bigint, outcome varchar(10), score integer,
    decided_at timestamptz, rules_evaluated smallint, rules_failed smallint, degraded json)
ORDER BY transaction_id
ON CONFLICT (transaction_id) DO NOTHING
RETURNING transaction_id
"""


def decisions_store(evaluations: Sequence[engine.Evaluation]) -> set:
    """Insert decisions (skipping any already stored) with their hits and failures; the ids
    whose decision this call stored. Idempotent: a concurrent insert of the same decision
    (``?wait=true`` and a worker) leaves one."""
    if not evaluations:
        return set()
    now = timezone.now()
    stored = {
        row[0]
        for row in execute_with_records(
            _DECISION_INSERT,
            [
                {
                    "transaction_id": e.transaction.id,
                    "partner_id": e.transaction.partner_id,
                    "outcome": e.outcome,
                    "score": e.score,
                    "decided_at": now,
                    "rules_evaluated": e.evaluated,
                    "rules_failed": len(e.failures),
                    "degraded": sorted(e.degraded),
                }
                for e in evaluations
            ],
        )
    }
    _hits_and_failures_store(
        [evaluation for evaluation in evaluations if evaluation.transaction.id in stored], now
    )
    return stored


_FAILURES_ADD = """
UPDATE rules_decision d SET rules_failed = d.rules_failed + r.failed
FROM json_to_recordset(%s::json) AS r(transaction_id uuid, failed smallint)
WHERE d.transaction_id = r.transaction_id
"""


def decision_rules_add(evaluations: Sequence[engine.Evaluation]) -> None:
    """Add to decisions stored earlier (by ``?wait=true``) what the rules the request could
    not run made of them: those reading a provider only the worker runs (the network's
    graph). Their hits and failures join the decision's, created after it was decided; the
    outcome the partner was answered stands (the payment went ahead on it), and the hits
    raise alerts like any other. (The request counted them in ``rules_evaluated``.)"""
    _hits_and_failures_store(evaluations, timezone.now())
    if failed := [e for e in evaluations if e.failures]:
        execute_with_records(
            _FAILURES_ADD,
            [{"transaction_id": e.transaction.id, "failed": len(e.failures)} for e in failed],
        )


def _hits_and_failures_store(evaluations: Sequence[engine.Evaluation], now) -> None:
    hits, failures = [], []
    for evaluation in evaluations:
        tx = evaluation.transaction
        hits.extend(
            RuleHit(
                decision_id=tx.id,
                rule_id=rule.rule_id,
                rule_version_id=rule.version_id,
                shadow=rule.shadow,
                severity=rule.severity,
                score=rule.score,
                outcome=rule.outcome,
                explanation=explanation,
                created_at=now,
            )
            for rule, explanation in evaluation.hits
        )
        failures.extend(
            RuleFailure(
                rule_id=rule.rule_id,
                rule_version_id=rule.version_id,
                transaction_id=tx.id,
                message=message,
                created_at=now,
            )
            for rule, message in evaluation.failures
        )
    RuleHit.objects.bulk_create(hits)
    RuleFailure.objects.bulk_create(failures)
