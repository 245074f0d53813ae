"""Trying a rule before it runs: on one pasted transaction, or over a range of stored traffic.

Neither writes decisions nor changes the rolling aggregates: "try it" computes them as if the
pasted transaction were recorded, and a back-test reads the windows of transactions that are
already recorded (so it reaches back as far as the aggregates' retention).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.utils import timezone

from transactions import profile_cache
from transactions.models import PartnerBank, Transaction
from transactions.selectors import transactions_amount_base
from transactions.services import transaction_build

from .. import engine
from ..aggregates import aggregates_compute, aggregates_preview, event_from_transaction
from ..choices import BacktestState
from ..expressions import EvaluationContext
from ..features import FeatureBatch, providers
from ..features.aggregates import in_reporting_currency
from ..features.currency import currency_fields
from ..models import Backtest, RuleVersion, TypologyLabel

logger = logging.getLogger(__name__)

BACKTEST_CHUNK = 1000
BACKTEST_SAMPLES = 20
MAX_BACKTEST_DAYS = 31


@dataclass
class TryResult:
    hit: bool
    explanation: str
    error: str
    fields: dict
    aggregates: dict[str, object]


def rule_try(*, version: RuleVersion, partner: PartnerBank, payload: object) -> TryResult:
    """Evaluate a version on a pasted transaction JSON; ValidationError if the JSON is invalid."""
    tx, errors = transaction_build(partner=partner, payload=payload)
    if tx is None:
        raise ValidationError(
            [f"{path}: {'; '.join(problems)}" for path, problems in errors.items()]
        )
    rule = engine.running_rule(version, code=version.rule.code, shadow=False)
    ruleset = _ruleset_of(rule)
    conversions = transactions_amount_base([tx])
    (values,) = in_reporting_currency(
        [tx], aggregates_preview([event_from_transaction(tx)], ruleset.specs), lambda: conversions
    )
    profile = profile_cache.cached_profile(tx.partner_id, tx.account_external_id)
    base = currency_fields(tx.amount, tx.currency, conversions[0])
    (replayed,) = _replayed([tx], {(tx.partner_id, tx.account_external_id): profile}, rule)
    context = EvaluationContext(
        fields={**engine.transaction_fields(tx, profile), **base, **replayed},
        aggregates=values,
        lists=ruleset.lists,
    )
    evaluation = engine.evaluate_one(tx, ruleset=ruleset, context=context)
    return TryResult(
        hit=bool(evaluation.hits),
        explanation=evaluation.hits[0][1] if evaluation.hits else "",
        error=evaluation.failures[0][1] if evaluation.failures else "",
        fields=context.fields,
        aggregates={spec.describe(): value for spec, value in values.items()},
    )


def _ruleset_of(rule: engine.RunningRule) -> engine.RuleSet:
    return engine.RuleSet(
        rules=(rule,),
        lists=engine.load_lists(set(rule.expression.lists)),
        review_score=10**9,
        block_score=10**9,
    )


def _replayed(
    transactions: list[Transaction], profiles: dict, rule: engine.RunningRule
) -> list[dict[str, object]]:
    """The fields of the replayable providers the rule reads (``FeatureProvider.replayable``:
    network analytics' stored findings and proximity), per transaction; a provider that fails
    fails the back-test, which says so."""
    rows: list[dict[str, object]] = [{} for _ in transactions]
    wanted = [p for p in providers() if p.replayable and p.name in rule.providers]
    batch = FeatureBatch(transactions=transactions, profiles=profiles)
    for provider in wanted:
        for row, values in zip(rows, provider.values(batch), strict=True):
            row.update(values)
    return rows


def backtest_request(
    *,
    version: RuleVersion,
    occurred_after: datetime,
    occurred_before: datetime,
    partner: PartnerBank | None,
    actor,
) -> Backtest:
    """Queue a back-test; the Celery task runs it and records progress as it goes."""
    if occurred_before <= occurred_after:
        raise ValidationError("The end of the range must come after its start.")
    if (occurred_before - occurred_after).days > MAX_BACKTEST_DAYS:
        raise ValidationError(f"A back-test covers at most {MAX_BACKTEST_DAYS} days.")
    backtest = Backtest.objects.create(
        rule_version=version,
        partner=partner,
        occurred_after=occurred_after,
        occurred_before=occurred_before,
        requested_by=actor,
    )
    from ..tasks import run_backtest

    db_transaction.on_commit(lambda: run_backtest.delay(backtest.pk))
    return backtest


def backtest_run(*, backtest_id: int) -> Backtest:
    """Replay the version over the range in chunks, saving progress after each one."""
    backtest = Backtest.objects.select_related("rule_version__rule").get(pk=backtest_id)
    if backtest.state not in (BacktestState.QUEUED, BacktestState.RUNNING):
        return backtest
    transactions = Transaction.objects.filter(
        occurred_at__gt=backtest.occurred_after, occurred_at__lte=backtest.occurred_before
    )
    if backtest.partner_id:
        transactions = transactions.filter(partner_id=backtest.partner_id)
    backtest.total = transactions.count()
    backtest.processed = 0
    backtest.state = BacktestState.RUNNING
    backtest.save(update_fields=["total", "processed", "state"])
    try:
        tally = _Tally()
        version = backtest.rule_version
        ruleset = _ruleset_of(engine.running_rule(version, code=version.rule.code, shadow=False))
        chunk: list[Transaction] = []
        for tx in transactions.order_by("occurred_at", "id").iterator(chunk_size=BACKTEST_CHUNK):
            chunk.append(tx)
            if len(chunk) == BACKTEST_CHUNK:
                _backtest_chunk(backtest, chunk, ruleset, tally)
                chunk = []
        if chunk:
            _backtest_chunk(backtest, chunk, ruleset, tally)
        backtest.result = tally.result(backtest)
        backtest.state = BacktestState.DONE
    except Exception as error:
        logger.exception("Back-test %s failed", backtest.pk)
        backtest.state = BacktestState.FAILED
        backtest.error = f"{type(error).__name__}: {error}"[:2000]
    backtest.finished_at = timezone.now()
    backtest.save(update_fields=["result", "state", "error", "finished_at"])
    return backtest


class _Tally:
    def __init__(self) -> None:
        self.hits = 0
        self.failures = 0
        self.accounts: set[tuple[int, str]] = set()
        self.samples: list[dict] = []

    def result(self, backtest: Backtest) -> dict:
        labels: dict[str, set[tuple[int, str]]] = {}
        for label in TypologyLabel.objects.all():
            labels.setdefault(label.typology, set()).add(
                (label.partner_id, label.account_external_id)
            )
        labelled = set().union(*labels.values()) if labels else set()
        return {
            "transactions": backtest.total,
            "transactions_hit": self.hits,
            "accounts_hit": len(self.accounts),
            "failures": self.failures,
            "samples": self.samples,
            "typologies": {
                typology: {
                    "labelled_accounts": len(accounts),
                    "accounts_hit": len(accounts & self.accounts),
                }
                for typology, accounts in sorted(labels.items())
            },
            "unlabelled_accounts_hit": len(self.accounts - labelled),
        }


def _backtest_chunk(
    backtest: Backtest, chunk: list[Transaction], ruleset: engine.RuleSet, tally: _Tally
) -> None:
    conversions = transactions_amount_base(chunk)
    values = in_reporting_currency(
        chunk,
        aggregates_compute([event_from_transaction(tx) for tx in chunk], ruleset.specs),
        lambda: conversions,
    )
    profiles = profile_cache.cached_profiles(
        [(tx.partner_id, tx.account_external_id) for tx in chunk]
    )
    bases = [
        {**currency_fields(tx.amount, tx.currency, conversion), **replayed}
        for tx, conversion, replayed in zip(
            chunk, conversions, _replayed(chunk, profiles, ruleset.rules[0]), strict=True
        )
    ]
    for tx, aggregate_values, base in zip(chunk, values, bases, strict=True):
        key = (tx.partner_id, tx.account_external_id)
        context = EvaluationContext(
            fields={**engine.transaction_fields(tx, profiles.get(key)), **base},
            aggregates=aggregate_values,
            lists=ruleset.lists,
        )
        evaluation = engine.evaluate_one(tx, ruleset=ruleset, context=context)
        tally.failures += len(evaluation.failures)
        if not evaluation.hits:
            continue
        tally.hits += 1
        tally.accounts.add(key)
        if len(tally.samples) < BACKTEST_SAMPLES:
            tally.samples.append(
                {
                    "transaction_id": str(tx.id),
                    "external_id": tx.external_id,
                    "account_id": tx.account_external_id,
                    "occurred_at": tx.occurred_at.isoformat(),
                    "explanation": evaluation.hits[0][1],
                }
            )
    backtest.processed += len(chunk)
    Backtest.objects.filter(pk=backtest.pk).update(processed=backtest.processed)
