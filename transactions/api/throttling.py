"""Per-partner rate limits: a token bucket in Redis shared by every process and key.

A token is one transaction: a single POST or a read costs one, a batch costs one per item
(at most the bucket's size, so an allowed batch is never refused forever). With Redis down the
limiter lets requests through for a short grace (SENTINEL_RATE_LIMIT_GRACE_SECONDS, a blip
must not stop payments), then refuses them with 503 and Retry-After until Redis answers: an
unlimited API is one partner's bug away from starving every other partner.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.throttling import BaseThrottle

from sentinel.redis import get_redis, redis_key

from .authentication import partner_of

logger = logging.getLogger(__name__)

# The bucket holds a minute's worth of tokens and refills continuously; TIME comes from Redis
# so every process agrees on the clock.
_BUCKET_SCRIPT = """
local capacity = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local per_ms = capacity / 60000.0
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * per_ms)
local wait_ms = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait_ms = math.ceil((cost - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 61000)
return wait_ms
"""
_script = None
_outage = threading.Lock()
_down_since: float | None = None  # monotonic time of the first failure of the current outage


class RateLimiterUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The rate limiter is unavailable; retry shortly."
    error_code = "unavailable"
    wait = 5


def take_tokens(partner_id: int, capacity: int, cost: int = 1) -> float:
    """0 if a request costing ``cost`` tokens may proceed, else the seconds until it may."""
    global _script
    redis = get_redis()
    if _script is None:
        _script = redis.register_script(_BUCKET_SCRIPT)
    cost = max(1, min(cost, capacity))
    wait_ms = _script(
        keys=[redis_key("ratelimit", partner_id)], args=[capacity, cost], client=redis
    )
    return int(wait_ms) / 1000


def _limiter_failed() -> bool:
    """Record a failure; whether the grace period for this outage is still running."""
    global _down_since
    with _outage:
        now = time.monotonic()
        if _down_since is None:
            _down_since = now
        return now - _down_since < settings.SENTINEL_RATE_LIMIT_GRACE_SECONDS


def _limiter_answered() -> None:
    global _down_since
    _down_since = None


class PartnerRateThrottle(BaseThrottle):
    """429 with Retry-After once a partner exceeds its transactions per minute; a view may
    say what a request costs with ``rate_cost(request)`` (the batch: its item count)."""

    def allow_request(self, request, view) -> bool:
        partner = partner_of(request)
        if partner is None:
            return True
        cost_of = getattr(view, "rate_cost", None)
        cost = cost_of(request) if cost_of is not None else 1
        try:
            self._wait = take_tokens(partner.pk, partner.effective_rate_limit, cost)
        except Exception:  # noqa: BLE001  any Redis failure: the limiter cannot count
            if _limiter_failed():
                logger.warning("Rate limiter unavailable; request allowed (grace).", exc_info=True)
                return True
            logger.error("Rate limiter unavailable past its grace; request refused.")
            raise RateLimiterUnavailable() from None
        _limiter_answered()
        return self._wait == 0

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)
