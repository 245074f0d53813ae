"""Reads for partners, transactions and profiles."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from . import profile_cache
from .models import AccountProfile, PartnerBank


def account_profile_get(*, partner_id: int, account_external_id: str) -> dict | None:
    """The account's profile from Redis; on a miss, from PostgreSQL, refilling the cache."""
    cached = profile_cache.cached_profile(partner_id, account_external_id)
    if cached is not None:
        return cached
    profile = (
        AccountProfile.objects.select_related("account__customer")
        .filter(account__partner_id=partner_id, account__external_id=account_external_id)
        .first()
    )
    if profile is None:
        return None
    cached = profile_cache.profile_as_dict(profile)
    profile_cache.cache_profiles({(partner_id, account_external_id): cached})
    return cached


def partner_activity_summary() -> list[dict]:
    """Per partner: transactions in the last 24 hours, by status, and the latest one."""
    from django.db.models import Count, Max, Q

    since = timezone.now() - timedelta(hours=24)
    recent = Q(transactions__occurred_at__gte=since)
    rows = PartnerBank.objects.annotate(
        last_24h=Count("transactions", filter=recent),
        failed=Count("transactions", filter=recent & Q(transactions__status="failed")),
        denied=Count("transactions", filter=recent & Q(transactions__status="denied")),
        reversed=Count("transactions", filter=recent & Q(transactions__status="reversed")),
        last_occurred_at=Max("transactions__occurred_at"),
    ).order_by("name")
    return list(rows)
