"""Reads of the rule engine: decisions as the API shows them, and how often rules fire."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from transactions.models import Transaction

from . import engine
from .engine import Evaluation
from .models import Decision, RuleFailure, RuleHit


def live_hits_prefetch(prefix: str = "") -> Prefetch:
    """Prefetch a decision's live hits (shadow hits are never shown to partners)."""
    return Prefetch(
        f"{prefix}hits",
        queryset=RuleHit.objects.filter(shadow=False)
        .select_related("rule", "rule_version")
        .order_by("-score", "rule__code"),
        to_attr="live_hits",
    )


def decision_get(*, transaction_id) -> Decision | None:
    return Decision.objects.filter(pk=transaction_id).prefetch_related(live_hits_prefetch()).first()


def decision_payload(decision: Decision) -> dict:
    """The contract's ``decision`` object: outcome, score and the explained live hits."""
    hits = getattr(decision, "live_hits", None)
    if hits is None:
        hits = list(
            decision.hits.filter(shadow=False)
            .select_related("rule", "rule_version")
            .order_by("-score", "rule__code")
        )
    payload = {
        "outcome": decision.outcome,
        "score": decision.score,
        "hits": [
            {
                "rule": hit.rule.code,
                "version": hit.rule_version.number,
                "severity": hit.severity,
                "explanation": hit.explanation,
            }
            for hit in hits
        ],
    }
    if decision.degraded:
        payload["degraded"] = sorted(decision.degraded)
    return payload


def evaluations_stored(*, transactions: Sequence[Transaction]) -> list[Evaluation]:
    """The stored decisions of these transactions as evaluations (those without one are left
    out): what the pipeline's later stages need of a decision made earlier, by ``?wait=true``.
    Failures are not reloaded: they were stored with the decision."""
    by_id = {tx.id: tx for tx in transactions}
    decisions = Decision.objects.filter(pk__in=by_id).prefetch_related(
        Prefetch(
            "hits",
            queryset=RuleHit.objects.select_related("rule", "rule_version")
            .prefetch_related("rule_version__partners")
            .order_by("-score", "rule__code"),
        )
    )
    return [
        Evaluation(
            transaction=by_id[decision.pk],
            outcome=decision.outcome,
            score=decision.score,
            hits=[
                (
                    engine.running_rule(hit.rule_version, code=hit.rule.code, shadow=hit.shadow),
                    hit.explanation,
                )
                for hit in decision.hits.all()
            ],
            failures=[],
            evaluated=decision.rules_evaluated,
            degraded=frozenset(decision.degraded),
        )
        for decision in decisions
    ]


def rule_hit_counts(*, rule_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per rule: live hits in 24 h and 7 days, shadow hits and failures in 7 days."""
    now = timezone.now()
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    counts = {
        row["rule_id"]: row
        for row in RuleHit.objects.filter(rule_id__in=rule_ids, created_at__gte=week)
        .values("rule_id")
        .annotate(
            live_24h=Count("pk", filter=Q(shadow=False, created_at__gte=day)),
            live_7d=Count("pk", filter=Q(shadow=False)),
            shadow_7d=Count("pk", filter=Q(shadow=True)),
        )
    }
    failures = dict(
        RuleFailure.objects.filter(rule_id__in=rule_ids, created_at__gte=week)
        .values("rule_id")
        .annotate(n=Count("pk"))
        .values_list("rule_id", "n")
    )
    empty = {"live_24h": 0, "live_7d": 0, "shadow_7d": 0}
    return {
        rule_id: {
            **{key: counts.get(rule_id, empty)[key] for key in empty},
            "failures_7d": failures.get(rule_id, 0),
        }
        for rule_id in rule_ids
    }
