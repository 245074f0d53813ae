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
    return cacheable(
        {
            "partner_id": account.partner_id,
            "account_id": account.external_id,
            "customer_id": account.customer.external_id if account.customer_id else None,
            **{name: getattr(profile, name) for name in _PROFILE_FIELDS},
        }
    )


_PROFILE_FIELDS = (*AccountProfile.FOLDED_FIELDS, *AccountProfile.STAFF_FIELDS)


def cacheable(profile: dict) -> dict:
    """The cached form: JSON-ready, datetimes in ISO 8601 and limits as decimal strings."""
    return {
        **profile,
        "first_seen_at": profile["first_seen_at"].isoformat(),
        "last_seen_at": profile["last_seen_at"].isoformat(),
        "single_transaction_limit": _money(profile["single_transaction_limit"]),
        "daily_limit": _money(profile["daily_limit"]),
    }


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def cache_profiles(profiles: dict[tuple[int, str], dict]) -> None:
    """Store cached-form profiles, keyed by (partner id, account id)."""
    if not profiles:
        return
    pipe = get_redis().pipeline(transaction=False)
    for (partner_id, account_id), profile in profiles.items():
        pipe.set(profile_key(partner_id, account_id), json.dumps(profile), ex=CACHE_TTL_SECONDS)
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
