"""Decisions: scoring transactions and storing what the rules made of them."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from django.db import transaction as db_transaction
from django.utils import timezone

from sentinel.db import execute_with_records
from transactions import profile_cache
from transactions.models import PartnerBank, Transaction
from transactions.services import (
    IngestResult,
    ProfilingKey,
    transaction_ingest,
    transactions_hand_over,
)

from .. import engine, selectors
from ..models import Decision, RuleFailure, RuleHit

logger = logging.getLogger(__name__)

# --- Decisions ---------------------------------------------------------------------------------


def transactions_score(
    *, transactions: Sequence[Transaction], profiles: Mapping[tuple[int, str], dict | None]
) -> list[engine.Evaluation]:
    """Score the transactions that have no decision yet and store their decisions.

    Idempotent: a transaction already decided (by ``?wait=true`` or an earlier delivery) is
    skipped, and the decision insert ignores a concurrent one.
    """
    ids = [tx.id for tx in transactions]
    decided = set(Decision.objects.filter(transaction_id__in=ids).values_list("pk", flat=True))
    todo = [tx for tx in transactions if tx.id not in decided]
    if not todo:
        return []
    evaluations = engine.evaluate_transactions(todo, profiles=profiles)
    decisions_store(evaluations)
    return evaluations


def transaction_score_now(*, transaction: Transaction, new: bool = False) -> dict:
    """Score one transaction in the request (``?wait=true``); the contract's decision object.

    ``new`` says the caller just created it (and has not handed it to the workers yet), so no
    decision can exist: the answer is built from the evaluation, without reading it back.
    Otherwise a stored decision is answered as it is.
    """
    if not new and (stored := selectors.decision_get(transaction_id=transaction.pk)):
        return selectors.decision_payload(stored)
    key = (transaction.partner_id, transaction.account_external_id)
    profile = profile_cache.cached_profile(*key)
    (evaluation,) = engine.evaluate_transactions([transaction], profiles={key: profile})
    if evaluation.hits or evaluation.failures:
        with db_transaction.atomic():
            stored_ids = decisions_store([evaluation])
    else:  # one statement, atomic on its own: spares the request a BEGIN and a COMMIT
        stored_ids = decisions_store([evaluation])
    if transaction.pk in stored_ids:
        return evaluation.payload()
    return selectors.decision_payload(selectors.decision_get(transaction_id=transaction.pk))


def transaction_ingest_scored(
    *, partner: PartnerBank, payload: object
) -> tuple[IngestResult, dict | None]:
    """Ingest one transaction and score it before answering (``?wait=true``).

    A new transaction reaches the workers only after its decision is stored, so they never
    race the request for it. If scoring fails (Redis down...) the transaction stays accepted,
    the workers score it later, and the decision is None ("pending"): a payment is never
    refused because monitoring had a hiccup.
    """
    result = transaction_ingest(partner=partner, payload=payload, hand_over=False)
    if result.status not in ("created", "duplicate"):
        return result, None
    new = result.status == "created"
    try:
        decision = transaction_score_now(transaction=result.transaction, new=new)
    except Exception:
        logger.exception("Scoring %s in the request failed; the workers will score it", result.id)
        decision = None
    finally:
        if new:
            transactions_hand_over([ProfilingKey.of(result.transaction)])
    return result, decision


_DECISION_INSERT = """
INSERT INTO rules_decision (
    transaction_id, partner_id, outcome, score, decided_at, rules_evaluated, rules_failed)
SELECT transaction_id, partner_id, outcome, score, decided_at, rules_evaluated, rules_failed
FROM json_to_recordset(%s::json) AS r(
    transaction_id uuid, partner_id bigint, outcome varchar(10), score integer,
    decided_at timestamptz, rules_evaluated smallint, rules_failed smallint)
ORDER BY transaction_id
ON CONFLICT (transaction_id) DO NOTHING
RETURNING transaction_id
"""


def decisions_store(evaluations: Sequence[engine.Evaluation]) -> set:
    """Insert decisions (skipping any already stored) with their hits and failures; the ids
    whose decision this call stored."""
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
                }
                for e in evaluations
            ],
        )
    }
    hits, failures = [], []
    for evaluation in evaluations:
        tx = evaluation.transaction
        if tx.id not in stored:
            continue
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
    _raise_alerts([e for e in evaluations if e.transaction.id in stored])
    return stored


def _raise_alerts(evaluations: Sequence[engine.Evaluation]) -> None:
    """The seam to alerts: open or update alerts for the live hits just stored, and record the
    partner webhooks of review and block decisions, in the same database transaction (so a
    decision, its alerts and its notifications exist together or not at all)."""
    from alerts.services import alerts_from_hits, webhooks_for_decisions

    alerts_from_hits(evaluations=evaluations)
    webhooks_for_decisions(evaluations=evaluations)
