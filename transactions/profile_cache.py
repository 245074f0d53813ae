"""The Redis copy of account profiles, read on the scoring path instead of PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal

from sentinel.redis import get_redis, redis_key

from .models import AccountProfile

CACHE_TTL_SECONDS = 14 * 24 * 3600


def profile_key(partner_id: int, account_external_id: str) -> str:
    return redis_key("profile", partner_id, account_external_id)


def profile_as_dict(profile: AccountProfile) -> dict:
    account = profile.account
    return {
        "partner_id": account.partner_id,
        "account_id": account.external_id,
        "customer_id": account.customer.external_id if account.customer_id else None,
        "first_seen_at": profile.first_seen_at.isoformat(),
        "last_seen_at": profile.last_seen_at.isoformat(),
        "transaction_count": profile.transaction_count,
        "activity": profile.activity,
        "status_counts": profile.status_counts,
        "countries": profile.countries,
        "devices": profile.devices,
        "risk_rating": profile.risk_rating,
        "single_transaction_limit": _money(profile.single_transaction_limit),
        "daily_limit": _money(profile.daily_limit),
        "limit_currency": profile.limit_currency,
    }


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def cache_profiles(profiles: list[AccountProfile]) -> None:
    if not profiles:
        return
    pipe = get_redis().pipeline(transaction=False)
    for profile in profiles:
        key = profile_key(profile.account.partner_id, profile.account.external_id)
        pipe.set(key, json.dumps(profile_as_dict(profile)), ex=CACHE_TTL_SECONDS)
    pipe.execute()


def cached_profile(partner_id: int, account_external_id: str) -> dict | None:
    raw = get_redis().get(profile_key(partner_id, account_external_id))
    return None if raw is None else json.loads(raw)


def invalidate_profile(partner_id: int, account_external_id: str) -> None:
    get_redis().delete(profile_key(partner_id, account_external_id))


def cached_profiles(keys: list[tuple[int, str]]) -> dict[tuple[int, str], dict]:
    """Several profiles in one round trip: {(partner id, account id): profile} for those cached."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return {}
    raws = get_redis().mget([profile_key(*key) for key in unique])
    return {key: json.loads(raw) for key, raw in zip(unique, raws, strict=True) if raw is not None}
