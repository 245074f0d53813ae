"""The partner API attacked: replayed and re-targeted signatures, odd key ids, nested JSON,
batches against the rate limit and a rate limiter without Redis (docs/security.md)."""

from __future__ import annotations

import json
import secrets
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from sentinel.embedded import free_port
from transactions.api import throttling
from transactions.api.authentication import sign_v2
from transactions.models import Transaction
from transactions.tests.factories import transaction_payload

URL = "/api/v1/transactions/"
BATCH_URL = "/api/v1/transactions/batch/"

pytestmark = pytest.mark.django_db


def v2_headers(client, *, method, path, query="", body=b"", nonce=None, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce = nonce or secrets.token_urlsafe(16)
    signature = sign_v2(
        client.secret,
        method=method,
        path=path,
        query=query,
        timestamp=timestamp,
        nonce=nonce,
        body=body,
    )
    return {
        "HTTP_X_SENTINEL_KEY": client.key_id,
        "HTTP_X_SENTINEL_TIMESTAMP": str(timestamp),
        "HTTP_X_SENTINEL_NONCE": nonce,
        "HTTP_X_SENTINEL_SIGNATURE": signature,
    }


def send(client, method, path, headers, body=b"", query=""):
    target = f"{path}?{query}" if query else path
    return client.client.generic(method, target, body, "application/json", **headers)


# --- Signatures, version 2 ---------------------------------------------------------------


def test_a_v2_signed_post_is_accepted_once_and_its_replay_is_refused(partner_client):
    # Given a partner signs a POST with v2
    client = partner_client()
    body = json.dumps(transaction_payload()).encode()
    headers = v2_headers(client, method="POST", path=URL, body=body)

    # When it arrives, and an eavesdropper sends the same request again within the window
    first = send(client, "POST", URL, headers, body)
    replay = send(client, "POST", URL, headers, body)

    # Then the first is stored and the replay answers 401 saying it was a replay
    assert first.status_code == 201, first.content
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "signature_replayed"
    assert Transaction.objects.count() == 1


def test_a_v2_get_signature_does_not_authorise_another_path_or_query(partner_client):
    # Given a leaked v2 signature of GET /api/v1/transactions/?type=p2p
    client = partner_client()
    stored = client.post(URL, transaction_payload()).json()
    headers = v2_headers(client, method="GET", path=URL, query="type=p2p")

    # When it is used on another path, with another query, or with another method
    other_path = send(client, "GET", f"{URL}{stored['id']}/", headers)
    other_query = send(client, "GET", URL, headers, query="type=wire")
    other_method = send(client, "POST", URL, headers, json.dumps(transaction_payload()).encode())
    genuine = send(client, "GET", URL, headers, query="type=p2p")

    # Then each is refused and only the request it was made for passes
    assert other_path.status_code == 401
    assert other_query.status_code == 401
    assert other_method.status_code == 401
    assert genuine.status_code == 200
    assert Transaction.objects.count() == 1


def test_a_v2_signature_over_another_body_is_refused(partner_client):
    client = partner_client()
    signed = json.dumps(transaction_payload(amount="1.00")).encode()
    tampered = json.dumps(transaction_payload(amount="9999.00")).encode()
    headers = v2_headers(client, method="POST", path=URL, body=signed)

    response = send(client, "POST", URL, headers, tampered)

    assert response.status_code == 401
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("nonce", ["", "short", "x" * 65, "bad nonce with spaces!!"])
def test_a_v2_signature_without_a_proper_nonce_is_refused(partner_client, nonce):
    client = partner_client()
    headers = v2_headers(client, method="GET", path=URL, nonce="n" * 20)
    headers["HTTP_X_SENTINEL_NONCE"] = nonce

    response = send(client, "GET", URL, headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "nonce_invalid"


def test_v1_keeps_working_as_the_contract_says(partner_client):
    # Given a partner still signing "<timestamp>.<body>" (v1)
    client = partner_client()

    # When it posts and reads
    posted = client.post(URL, transaction_payload())
    listed = client.get(URL)

    # Then both work as before
    assert (posted.status_code, listed.status_code) == (201, 200)


def test_v1_can_be_switched_off_once_partners_sign_with_v2(partner_client, settings):
    settings.SENTINEL_SIGNATURE_V1_ACCEPTED = False
    client = partner_client()

    refused = client.get(URL)
    v2 = send(client, "GET", URL, v2_headers(client, method="GET", path=URL))

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "signature_version"
    assert v2.status_code == 200


# --- Key ids ---------------------------------------------------------------------------------


def test_a_real_key_id_with_junk_appended_is_not_that_key(partner_client):
    # Given a partner's real key id and secret (the lookup used to cut the id at 40 characters)
    client = partner_client()
    client.key_id = client.key_id + "x" * (41 - len(client.key_id)) + "-junk"

    # When a request names the key with more characters after it
    response = client.post(URL, transaction_payload())

    # Then it is refused
    assert response.status_code == 401
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    "key_id",
    ["x" * 5000, "sk_" + "a" * 38, "' OR 1=1 --", "sk_acme bank_00", "sk_ü", "ak_acme_0001"],
)
def test_a_key_id_of_the_wrong_shape_is_refused_without_a_lookup(
    partner_client, django_assert_num_queries, key_id
):
    client = partner_client()
    client.key_id = key_id

    with django_assert_num_queries(0):
        response = client.get(URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


# --- Nested JSON -------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 5000, 200_000])
def test_json_nested_too_deep_answers_400_saying_so(partner_client, depth):
    # Given a body nested deeper than any transaction could be (200,000 levels used to
    # exhaust the parser's recursion and answer 500)
    client = partner_client()
    inner = "[" * depth + "]" * depth
    raw = ('{"transactions": [{"metadata": {"x": ' + inner + "}}]}").encode()

    # When it is posted
    response = client.post(BATCH_URL, raw=raw)

    # Then it answers 400 naming the problem, and stores nothing
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "nesting_too_deep"
    assert "32 levels" in error["message"]
    assert not Transaction.objects.exists()


def test_json_nested_within_the_limit_is_read(partner_client):
    client = partner_client()
    nested: object = "leaf"
    for _ in range(27):  # with batch, list, transaction and metadata: 31 levels
        nested = {"n": nested}
    payload = transaction_payload(metadata={"deep": nested})

    response = client.post(BATCH_URL, {"transactions": [payload]})

    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "created"


# --- Rate limits -------------------------------------------------------------------------------


def test_a_batch_costs_one_token_per_transaction(partner_client):
    # Given a partner allowed 10 transactions a minute
    client = partner_client()
    client.partner.rate_limit_per_minute = 10
    client.partner.save()

    # When it sends a batch of 8, then a batch of 3
    first = client.post(BATCH_URL, {"transactions": [transaction_payload() for _ in range(8)]})
    second = client.post(BATCH_URL, {"transactions": [transaction_payload() for _ in range(3)]})

    # Then the first passes and the second is over the minute's 10 transactions
    assert first.status_code == 200
    assert second.status_code == 429
    assert int(second["Retry-After"]) >= 1
    assert Transaction.objects.count() == 8


def test_a_batch_larger_than_the_whole_allowance_takes_the_whole_bucket(partner_client):
    client = partner_client()
    client.partner.rate_limit_per_minute = 5
    client.partner.save()

    batch = client.post(BATCH_URL, {"transactions": [transaction_payload() for _ in range(6)]})
    after = client.get(URL)

    assert batch.status_code == 200
    assert after.status_code == 429


@pytest.fixture
def limiter_without_redis(monkeypatch):
    """The rate limiter's Redis is a port where nothing listens; the rest keeps its Redis."""
    dead = redis.Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr(throttling, "get_redis", lambda: dead)
    monkeypatch.setattr(throttling, "_down_since", None)


def test_without_redis_the_limiter_lets_requests_through_during_the_grace(
    partner_client, limiter_without_redis, settings
):
    settings.SENTINEL_RATE_LIMIT_GRACE_SECONDS = 60
    client = partner_client()

    response = client.post(URL, transaction_payload())

    assert response.status_code == 201


def test_without_redis_past_the_grace_the_limiter_fails_closed_with_503(
    partner_client, limiter_without_redis, settings
):
    # Given Redis has been unreachable for longer than the grace
    settings.SENTINEL_RATE_LIMIT_GRACE_SECONDS = 0
    client = partner_client()

    # When a partner sends a transaction
    response = client.post(URL, transaction_payload())

    # Then it is refused with 503 and told when to retry, and nothing is stored
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert int(response["Retry-After"]) >= 1
    assert not Transaction.objects.exists()
