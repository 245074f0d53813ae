"""Default-pack evaluations per second in this process, pinned to one core.

The headline times ``engine.evaluate_one`` alone over transactions whose evaluation context
(fields, profile values, aggregate values) was prepared beforehand: what the rule engine costs.
The second figure adds what scoring also pays per transaction, the same way the worker does
it (``engine.evaluate_transactions`` in batches): building the fields and the aggregates'
Redis round trip (record + compute, one Lua call per batch). Both are split so the report can
say where the time goes.

Runs before the web server and the worker start, so only other people's work shares the core.
The transactions are unsaved ``Transaction`` objects built from bench payloads; a week of
history for the same accounts is recorded in Redis first, so the aggregates are not empty.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench import payloads

TRANSACTIONS = 3000
HISTORY_PER_TRANSACTION = 3
HISTORY_DAYS = 7
# As the worker drains the profiling queue (transactions.services.PROFILE_DRAIN_BATCH).
BATCH = 1000
# Passes over the prepared transactions: the engine alone is cheap, so it gets more; a pass
# through Redis costs seconds on a busy box.
REPEATS = 5
ROUND_TRIP_REPEATS = 2


@dataclass
class ScoringResult:
    """Seconds per pass over all the prepared transactions, one entry per repeat."""

    transactions: int
    rules: int
    specs: int
    core: int | None
    evaluate_seconds: list[float]
    fields_seconds: list[float]
    aggregates_seconds: list[float]
    full_seconds: list[float]
    hits: int
    failures: int
    slowest_rules_us: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def per_second(self, seconds: list[float]) -> float:
        median = statistics.median(seconds) if seconds else 0.0
        return self.transactions / median if median else 0.0

    def us_per_transaction(self, seconds: list[float]) -> float:
        return statistics.median(seconds) * 1e6 / self.transactions if seconds else 0.0

    @property
    def rate(self) -> float:
        return self.per_second(self.evaluate_seconds)

    @property
    def full_rate(self) -> float:
        return self.per_second(self.full_seconds)


def measure(*, partner_id: int, count: int = TRANSACTIONS, repeats: int = REPEATS) -> ScoringResult:
    """Prepare, then time the engine alone (`repeats` passes) and with its inputs."""
    from rules import engine
    from rules.aggregates import aggregates_record, event_from_transaction
    from rules.expressions import EvaluationContext

    ruleset = engine.current_ruleset()
    history, scored = _transactions(partner_id, count)
    for chunk in _chunks(history, BATCH):
        aggregates_record([event_from_transaction(tx) for tx in chunk])
    profiles = _profiles(scored)
    # Every feature provider's values, computed as the worker computes them per batch (the
    # aggregates recorded and read in the same call), so the pass below times the rules alone.
    contexts = []
    for chunk in _chunks(scored, BATCH):
        features = engine.batch_features(chunk, profiles=profiles, ruleset=ruleset)
        if features.failed:
            raise RuntimeError(f"feature providers failed: {sorted(features.failed)}")
        contexts += [
            EvaluationContext(
                fields={**engine.transaction_fields(tx), **provided},
                aggregates=values,
                lists=ruleset.lists,
            )
            for tx, provided, values in zip(
                chunk, features.fields, features.aggregates, strict=True
            )
        ]
    result = ScoringResult(
        transactions=len(scored),
        rules=len(ruleset.rules),
        specs=len(ruleset.specs),
        core=None,
        evaluate_seconds=[],
        fields_seconds=[],
        aggregates_seconds=[],
        full_seconds=[],
        hits=0,
        failures=0,
    )
    with _pinned() as core:
        result.core = core
        engine.evaluate_one(scored[0], ruleset=ruleset, context=contexts[0])  # warm caches
        for _ in range(repeats):
            began = time.perf_counter()
            evaluations = [
                engine.evaluate_one(tx, ruleset=ruleset, context=context)
                for tx, context in zip(scored, contexts, strict=True)
            ]
            result.evaluate_seconds.append(time.perf_counter() - began)
            result.fields_seconds.append(_time_fields(engine, scored, profiles))
        for _ in range(ROUND_TRIP_REPEATS):
            result.aggregates_seconds.append(_time_aggregates(ruleset.specs, scored))
            result.full_seconds.append(_time_full(engine, ruleset, scored, profiles))
        result.slowest_rules_us = _slowest_rules(ruleset, scored, contexts)
    result.hits = sum(len(e.hits) for e in evaluations)
    result.failures = sum(len(e.failures) for e in evaluations)
    if result.failures:
        result.problems.append(f"{result.failures} rule failures while evaluating the pack")
    return result


def _time_fields(engine, scored: Sequence, profiles: dict) -> float:
    began = time.perf_counter()
    for tx in scored:
        engine.transaction_fields(tx, profiles[_profile_key(tx)])
    return time.perf_counter() - began


def _time_aggregates(specs: Sequence, scored: Sequence) -> float:
    """Building the events and one record+compute round trip per batch (Redis runs the Lua
    script in its own process: this is wall time, not this core's CPU)."""
    from rules.aggregates import aggregates_record_and_compute, event_from_transaction

    began = time.perf_counter()
    for chunk in _chunks(scored, BATCH):
        aggregates_record_and_compute([event_from_transaction(tx) for tx in chunk], specs)
    return time.perf_counter() - began


def _time_full(engine, ruleset, scored: Sequence, profiles: dict) -> float:
    """What the worker calls per drained batch, profiles already at hand."""
    began = time.perf_counter()
    for chunk in _chunks(scored, BATCH):
        engine.evaluate_transactions(chunk, profiles=profiles, ruleset=ruleset)
    return time.perf_counter() - began


def _slowest_rules(ruleset, scored: Sequence, contexts: Sequence) -> dict[str, float]:
    """µs per scored transaction spent in each rule (in scope or not), the three costliest."""
    spent: dict[str, float] = {}
    for rule in ruleset.rules:
        began = time.perf_counter()
        for tx, context in zip(scored, contexts, strict=True):
            if rule.applies_to(tx.partner_id, tx.type):
                try:
                    rule.expression.evaluate(context)
                except Exception:  # noqa: BLE001, S112  counted by the main pass
                    continue
        spent[rule.code] = (time.perf_counter() - began) * 1e6 / len(scored)
    costliest = sorted(spent.items(), key=lambda item: item[1], reverse=True)[:3]
    return {code: round(us, 2) for code, us in costliest}


@contextmanager
def _pinned() -> Iterator[int | None]:
    """Run the block on one core (the last one allowed), then give the process its cores back,
    so the servers started afterwards are not confined to it."""
    allowed = os.sched_getaffinity(0)
    core = max(allowed)
    try:
        os.sched_setaffinity(0, {core})
    except OSError:
        yield None
        return
    try:
        yield core
    finally:
        os.sched_setaffinity(0, allowed)


def _transactions(partner_id: int, count: int) -> tuple[list, list]:
    """(history over the past week, the transactions to score within the last hour), validated
    like ingest and never saved."""
    from transactions.models import PartnerBank
    from transactions.services import transaction_build

    partner = PartnerBank.objects.get(pk=partner_id)
    rng = random.Random("scoring")
    now = datetime.now(UTC)

    def build(prefix: str, number: int, moment: datetime):
        payload = payloads.transaction(rng, f"{prefix}-{number:07d}", moment)
        tx, errors = transaction_build(partner=partner, payload=payload)
        if tx is None:
            raise RuntimeError(f"bench payload refused: {errors}")
        return tx

    history = [
        build("history", n, now - timedelta(seconds=rng.uniform(3600, HISTORY_DAYS * 86400)))
        for n in range(count * HISTORY_PER_TRANSACTION)
    ]
    history.sort(key=lambda tx: tx.occurred_at)
    return history, [build("scored", n, now) for n in range(count)]


def _profile_key(tx) -> tuple[int, str]:
    return (tx.partner_id, tx.account_external_id)


def _profiles(scored: Sequence) -> dict[tuple[int, str], dict]:
    """Plausible cached profiles (the fields rules read), one per account, as the worker has
    them after its fold."""
    rng = random.Random("profiles")
    now = datetime.now(UTC)
    profiles = {}
    for key in sorted({_profile_key(tx) for tx in scored}):
        first_seen = now - timedelta(days=rng.uniform(30, 900))
        profiles[key] = {
            "partner_id": key[0],
            "account_id": key[1],
            "first_seen_at": first_seen.isoformat(),
            "last_seen_at": now.isoformat(),
            "transaction_count": (count := rng.randrange(20, 2000)),
            "counterparty_count": rng.randrange(1, max(2, count // 4)),
            "activity": {
                "outbound:transfer:USD": {
                    "count": count,
                    "sum": f"{count * rng.uniform(50, 900):.4f}",
                    "min": f"{rng.uniform(1, 40):.4f}",
                    "max": f"{rng.uniform(900, 9000):.4f}",
                }
            },
            "risk_rating": rng.choice(("low",) * 8 + ("medium", "high")),
            "single_transaction_limit": None,
            "daily_limit": "25000.00" if rng.random() < 0.2 else None,
            "limit_currency": "USD",
            "countries": {"US": rng.randrange(10, 500), rng.choice(payloads.COUNTRIES): 3},
            "devices": {f"dev-{rng.randrange(1000)}": rng.randrange(1, 100)},
        }
    return profiles


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
