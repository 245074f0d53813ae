"""Per-partner rate limits: a token bucket in Redis shared by every process and key."""

from __future__ import annotations

import logging

from rest_framework.throttling import BaseThrottle

from sentinel.redis import get_redis, redis_key

from .authentication import partner_of

logger = logging.getLogger(__name__)

# The bucket holds a minute's worth of requests and refills continuously; TIME comes from Redis
# so every process agrees on the clock.
_BUCKET_SCRIPT = """
local capacity = tonumber(ARGV[1])
local per_ms = capacity / 60000.0
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * per_ms)
local wait_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait_ms = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 61000)
return wait_ms
"""
_script = None


def take_token(partner_id: int, capacity: int) -> float:
    """0 if the request may proceed, else the seconds until the next token."""
    global _script
    if _script is None:
        _script = get_redis().register_script(_BUCKET_SCRIPT)
    wait_ms = _script(keys=[redis_key("ratelimit", partner_id)], args=[capacity])
    return int(wait_ms) / 1000


class PartnerRateThrottle(BaseThrottle):
    """429 with Retry-After once a partner exceeds its requests per minute."""

    def allow_request(self, request, view) -> bool:
        partner = partner_of(request)
        if partner is None:
            return True
        try:
            self._wait = take_token(partner.pk, partner.effective_rate_limit)
        except Exception:  # Redis down: keep accepting payments rather than fail closed
            logger.warning("Rate limiter unavailable; request allowed.", exc_info=True)
            return True
        return self._wait == 0

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)
