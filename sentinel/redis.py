"""One Redis connection pool per process, for the hot paths that bypass Django's cache API."""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry


@cache
def get_redis() -> redis.Redis:
    # One quick retry at most: callers (health check, rate limiter, queue) have a fallback and
    # must not stall a request for seconds while Redis is down.
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=1,
        socket_connect_timeout=1,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 1),
    )


def redis_key(*parts: object) -> str:
    """Namespaced key, so tests and several deployments can share one Redis."""
    prefix = getattr(settings, "SENTINEL_REDIS_PREFIX", "sentinel")
    return ":".join([prefix, *(str(part) for part in parts)])
