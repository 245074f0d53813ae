"""API-key secrets: encrypted at rest, and a short-lived per-process cache of live keys.

The cache makes a signed request cost one Redis GET instead of a query and a decryption. Any
change to keys or partners bumps a generation counter in Redis, so every process drops its
cache on the very next request: a revoked key is refused at once everywhere. If Redis is
unreachable the cache is bypassed, never trusted blindly.
"""

from __future__ import annotations

import logging
import time

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import transaction

from sentinel.redis import get_redis, redis_key

from .models import ApiKey

logger = logging.getLogger(__name__)
KEY_CACHE_SECONDS = 60.0
_MAX_CACHED = 10_000
_cache: dict[str, tuple[float, bytes, ApiKey, str]] = {}


def _fernet() -> Fernet:
    return Fernet(settings.SENTINEL_ENCRYPTION_KEY.encode())


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(api_key: ApiKey) -> str:
    return _fernet().decrypt(api_key.encrypted_secret.encode()).decode()


def live_key(key_id: str) -> tuple[ApiKey, str] | None:
    """The live key (with its partner) and its secret, or None if unknown, revoked or inactive."""
    now = time.monotonic()
    generation = _generation()
    cached = _cache.get(key_id)
    if (
        cached is not None
        and generation is not None
        and cached[1] == generation
        and now - cached[0] < KEY_CACHE_SECONDS
    ):
        return cached[2], cached[3]
    api_key = (
        ApiKey.objects.select_related("partner")
        .filter(key_id=key_id, revoked_at__isnull=True, partner__is_active=True)
        .first()
    )
    if api_key is None:
        _cache.pop(key_id, None)
        return None
    secret = decrypt_secret(api_key)
    if generation is not None:
        if len(_cache) >= _MAX_CACHED:
            _cache.clear()
        _cache[key_id] = (now, generation, api_key, secret)
    return api_key, secret


def keys_changed() -> None:
    """Call when a key or partner changes: every process reloads keys after the commit."""
    transaction.on_commit(_bump_generation, robust=True)


def _bump_generation() -> None:
    _cache.clear()
    get_redis().incr(redis_key("keyring", "generation"))


def _generation() -> bytes | None:
    try:
        return get_redis().get(redis_key("keyring", "generation")) or b"0"
    except Exception:  # noqa: BLE001  Redis down: read keys from the database every time
        logger.warning("Key cache generation unavailable; reading keys from the database.")
        return None
