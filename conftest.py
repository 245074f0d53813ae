"""Fixtures shared by every app's tests: a clean Redis key space and signed API clients."""

from __future__ import annotations

import json
import time

import pytest
from rest_framework.test import APIClient

from sentinel.redis import get_redis, redis_key


@pytest.fixture(autouse=True)
def clean_redis():
    """Each test starts with an empty key space of its own (the prefix is per xdist worker)."""
    redis = get_redis()
    keys = list(redis.scan_iter(match=redis_key("*"), count=1000))
    if keys:
        redis.delete(*keys)
    yield


class SignedClient:
    """Sends requests signed the way a partner bank signs them."""

    def __init__(self, key_id: str, secret: str):
        from transactions.api.authentication import sign

        self._sign = sign
        self.key_id = key_id
        self.secret = secret
        self.client = APIClient()

    def headers(self, body: bytes, timestamp: int | None = None, secret: str | None = None):
        timestamp = int(time.time()) if timestamp is None else timestamp
        return {
            "HTTP_X_SENTINEL_KEY": self.key_id,
            "HTTP_X_SENTINEL_TIMESTAMP": str(timestamp),
            "HTTP_X_SENTINEL_SIGNATURE": self._sign(secret or self.secret, timestamp, body),
        }

    def post(self, path: str, payload=None, *, raw: bytes | None = None, **options):
        body = raw if raw is not None else json.dumps(payload).encode()
        content_type = options.pop("content_type", "application/json")
        headers = self.headers(body, options.pop("timestamp", None), options.pop("secret", None))
        return self.client.generic("POST", path, body, content_type, **headers, **options)

    def get(self, path: str, params: dict | None = None, **options):
        from urllib.parse import urlencode

        query = f"?{urlencode(params)}" if params else ""
        headers = self.headers(b"", options.pop("timestamp", None), options.pop("secret", None))
        return self.client.get(path + query, **headers, **options)


@pytest.fixture
def partner_client(db):
    """A partner with one live key, and a client that signs with it."""
    from transactions.services import api_key_create, partner_create

    def make(name: str = "Acme Bank") -> SignedClient:
        partner = partner_create(name=name)
        api_key, secret = api_key_create(partner=partner)
        client = SignedClient(api_key.key_id, secret)
        client.partner = partner
        client.api_key = api_key
        return client

    return make
