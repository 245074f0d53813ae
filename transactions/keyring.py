"""API-key secrets: encrypted at rest, and a short-lived per-process cache of live keys.

The cache makes a signed request cost no query and no decryption. Revoking a key in this
process drops its entry at once; other processes notice within KEY_CACHE_SECONDS.
"""

from __future__ import annotations

import time

from cryptography.fernet import Fernet
from django.conf import settings

from .models import ApiKey

KEY_CACHE_SECONDS = 2.0
_MAX_CACHED = 10_000
_cache: dict[str, tuple[float, ApiKey, str]] = {}


def _fernet() -> Fernet:
    return Fernet(settings.SENTINEL_ENCRYPTION_KEY.encode())


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(api_key: ApiKey) -> str:
    return _fernet().decrypt(api_key.encrypted_secret.encode()).decode()


def live_key(key_id: str) -> tuple[ApiKey, str] | None:
    """The live key (with its partner) and its secret, or None if unknown, revoked or inactive."""
    now = time.monotonic()
    cached = _cache.get(key_id)
    if cached is not None and now - cached[0] < KEY_CACHE_SECONDS:
        return cached[1], cached[2]
    api_key = (
        ApiKey.objects.select_related("partner")
        .filter(key_id=key_id[:40], revoked_at__isnull=True, partner__is_active=True)
        .first()
    )
    if api_key is None:
        _cache.pop(key_id, None)
        return None
    if len(_cache) >= _MAX_CACHED:
        _cache.clear()
    secret = decrypt_secret(api_key)
    _cache[key_id] = (now, api_key, secret)
    return api_key, secret


def forget_key(key_id: str) -> None:
    _cache.pop(key_id, None)
