"""Reads of alerts, with their relations loaded up front (bounded queries per page)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from .models import Alert, AlertEvent, AlertTransaction, Snooze


def alerts_list() -> QuerySet[Alert]:
    """Alerts with what a queue row shows: rule, partner, version and transaction ids."""
    return Alert.objects.select_related(
        "rule", "partner", "rule_version", "case_link"
    ).prefetch_related(
        Prefetch(
            "links",
            queryset=AlertTransaction.objects.only("id", "alert_id", "transaction_id"),
        )
    )


def alerts_detail() -> QuerySet[Alert]:
    """Alerts with their hits (explanations), transactions and history."""
    return Alert.objects.select_related(
        "rule", "partner", "rule_version", "case_link"
    ).prefetch_related(
        Prefetch(
            "links",
            queryset=AlertTransaction.objects.select_related(
                "transaction", "hit__rule", "hit__rule_version"
            ).order_by("transaction__occurred_at", "id"),
        ),
        Prefetch("events", queryset=AlertEvent.objects.select_related("actor")),
    )


def alert_feed(*, user, limit: int = 50) -> tuple[list[Alert], int]:
    """The investigator's home feed: the newest alerts and how many are open, for users who
    may see alerts (nothing otherwise)."""
    if not user.has_perm("alerts.view_alert"):
        return [], 0
    newest = list(alerts_list().order_by("-pk")[:limit])
    return newest, Alert.objects.open().count()


def snoozes_list() -> QuerySet[Snooze]:
    """Snoozes with their rule, partner, people and how many hits each silenced."""
    return Snooze.objects.select_related("rule", "partner", "created_by", "lifted_by").annotate(
        hits_silenced=Count("hits")
    )
