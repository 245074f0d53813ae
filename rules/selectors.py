"""Reads of the rule engine: decisions as the API shows them, and how often rules fire."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from transactions.models import Transaction

from . import engine
from .choices import ChangeKind, ChangeState, RuleStatus
from .engine import Evaluation
from .expressions import compile_expression
from .models import (
    Backtest,
    Decision,
    DecisionThresholds,
    Rule,
    RuleChange,
    RuleFailure,
    RuleHit,
    RuleList,
    RuleVersion,
)


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


def rule_workshop(*, rule: Rule) -> dict:
    """What the rule's admin page shows under the form: versions, the pending request, the
    status history, recent back-tests and hit counts."""
    return {
        "versions": rule.versions.select_related("author", "restored_from").order_by("-number"),
        "pending_change": change_pending(rule=rule),
        "changes": changes_decided(rule=rule),
        "backtests": Backtest.objects.filter(rule_version__rule=rule).select_related(
            "rule_version", "partner"
        )[:10],
        "hit_counts": rule_hit_counts(rule_ids=[rule.pk])[rule.pk],
    }


def rule_version_chosen(*, rule: Rule, version_id: str | None) -> RuleVersion:
    """The rule's version named by ``?version=`` (the one in effect without it); Http404 for
    anything that is not one of this rule's versions."""
    if version_id in (None, ""):
        return rule.version
    if not str(version_id).isdigit():
        raise Http404("No such version.")
    return get_object_or_404(RuleVersion, pk=int(version_id), rule=rule)


def backtest_get(*, backtest_id: int) -> Backtest:
    return get_object_or_404(
        Backtest.objects.select_related("rule_version__rule", "partner"), pk=backtest_id
    )


def list_entries_rows(*, rule_list: RuleList) -> list[tuple[str, str]]:
    """The list's entries as (value, note), in matching order: what the CSV export holds."""
    return list(rule_list.entries.order_by("normalized").values_list("value", "note"))


# --- Change requests -----------------------------------------------------------------------------


def change_pending(
    *, rule: Rule | None = None, rule_list: RuleList | None = None, kind: str = ChangeKind.RULE
) -> RuleChange | None:
    """The request awaiting approval for this rule, this list, or the thresholds."""
    pending = RuleChange.objects.filter(state=ChangeState.PENDING).select_related(
        "version", "requested_by", "rule", "rule_list"
    )
    if rule is not None:
        return pending.filter(rule=rule).first()
    if rule_list is not None:
        return pending.filter(rule_list=rule_list).first()
    return pending.filter(kind=kind).first()


def changes_decided(
    *, rule: Rule | None = None, rule_list: RuleList | None = None, kind: str = ChangeKind.RULE
) -> list[RuleChange]:
    """The latest decided changes (the history shown on the rule, list or thresholds page)."""
    decided = RuleChange.objects.exclude(state=ChangeState.PENDING).select_related(
        "version", "requested_by", "decided_by"
    )
    if rule is not None:
        decided = decided.filter(rule=rule)
    elif rule_list is not None:
        decided = decided.filter(rule_list=rule_list)
    else:
        decided = decided.filter(kind=kind)
    return list(decided[:20])


def live_rules(*, codes: Iterable[str]) -> QuerySet[Rule]:
    """Of these rule codes, the rules live with a version in effect: the rules a finding can
    raise an alert under (alerts.services.alerts_from_findings keeps only those)."""
    return Rule.objects.filter(code__in=set(codes), status=RuleStatus.LIVE, version__isnull=False)


def live_rule_codes(*, codes: Iterable[str]) -> set[str]:
    """``live_rules``' codes, without reading the rules."""
    return set(live_rules(codes=codes).values_list("code", flat=True))


def rule_editors_since_live(*, rule: Rule) -> set[int]:
    """Ids of the officers who wrote a version of this rule since it was last live: versions
    after the one in effect when it is live, else versions made after it last went live (all
    of them if it never did)."""
    versions = rule.versions.all()
    if rule.status == RuleStatus.LIVE and rule.version_id:
        versions = versions.filter(number__gt=rule.version.number)
    else:
        went_live = (
            rule.changes.filter(state=ChangeState.APPROVED, target_status=RuleStatus.LIVE)
            .order_by("-decided_at")
            .first()
        )
        if went_live is not None:
            versions = versions.filter(created_at__gt=went_live.decided_at)
    return set(versions.exclude(author=None).values_list("author_id", flat=True))


def thresholds_scores(thresholds: DecisionThresholds | None = None) -> dict[str, int]:
    """The scores in effect (the model's defaults when the row is missing)."""
    thresholds = thresholds or DecisionThresholds.objects.filter(pk=1).first()
    thresholds = thresholds or DecisionThresholds(pk=1)
    return {"review_score": thresholds.review_score, "block_score": thresholds.block_score}


def list_exempting_rules(*, rule_list: RuleList) -> list[str]:
    """Codes of the rules that can hit less when this list grows (``not in list(...)`` and the
    like): live rules' versions in effect, and versions a pending request would put live."""
    pending = RuleChange.objects.filter(
        state=ChangeState.PENDING, kind=ChangeKind.RULE, target_status=RuleStatus.LIVE
    ).values("version_id")
    versions = (
        RuleVersion.objects.filter(expression__contains=rule_list.name)
        .filter(Q(pk__in=pending) | Q(rule__status=RuleStatus.LIVE, rule__version=F("pk")))
        .select_related("rule")
    )
    return sorted(
        {
            version.rule.code
            for version in versions
            if rule_list.name in compile_expression(version.expression).exempting_lists
        }
    )
