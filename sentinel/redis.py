"""One Redis connection pool per process, for the hot paths that bypass Django's cache API."""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


@cache
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
    )


def redis_key(*parts: object) -> str:
    """Namespaced key, so tests and several deployments can share one Redis."""
    prefix = getattr(settings, "SENTINEL_REDIS_PREFIX", "sentinel")
    return ":".join([prefix, *(str(part) for part in parts)])
