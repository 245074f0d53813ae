"""The ingest API through its public surface: signed requests, errors, idempotency, isolation."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from transactions.models import Transaction
from transactions.services import api_key_create, api_key_revoke
from transactions.tests.factories import transaction_payload

URL = "/api/v1/transactions/"
BATCH_URL = "/api/v1/transactions/batch/"

pytestmark = pytest.mark.django_db


def test_signed_post_creates_a_transaction(partner_client):
    client = partner_client()
    payload = transaction_payload(amount="1500.00")

    response = client.post(URL, payload)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "external_id", "received_at", "scoring"}
    assert body["scoring"] == "pending"
    stored = Transaction.objects.get(pk=body["id"])
    assert stored.partner == client.partner
    assert stored.amount == Decimal("1500.00")
    assert stored.originator_account_id == "A1"
    assert stored.beneficiary_country == "SG"


def test_replaying_the_same_body_answers_200_with_the_stored_record(partner_client):
    client = partner_client()
    payload = transaction_payload()
    first = client.post(URL, payload)

    again = client.post(URL, payload)

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["amount"] == "1500.00"
    assert Transaction.objects.count() == 1


def test_replay_with_equivalent_formatting_is_still_a_duplicate(partner_client):
    client = partner_client()
    payload = transaction_payload(amount="1500.00")
    client.post(URL, payload)

    reformatted = client.post(URL, {**payload, "amount": 1500})

    assert reformatted.status_code == 200


def test_same_external_id_with_a_different_body_is_a_conflict(partner_client):
    client = partner_client()
    payload = transaction_payload()
    client.post(URL, payload)

    response = client.post(URL, {**payload, "amount": "1600.00"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Transaction.objects.get().amount == Decimal("1500.00")


@pytest.mark.parametrize(
    "tamper",
    [{"secret": "not-the-secret"}, {"skew": -400}, {"skew": 400}],
    ids=["bad-signature", "stale-timestamp", "future-timestamp"],
)
def test_bad_signatures_answer_401_and_store_nothing(partner_client, tamper):
    client = partner_client()
    if "skew" in tamper:  # taken when the test runs, not when it is collected
        tamper = {"timestamp": int(time.time()) + tamper["skew"]}

    response = client.post(URL, transaction_payload(), **tamper)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert not Transaction.objects.exists()


def test_signature_over_a_different_body_is_refused(partner_client):
    client = partner_client()
    signed_body = json.dumps(transaction_payload()).encode()
    sent_body = json.dumps(transaction_payload(amount="9999.00")).encode()
    headers = client.headers(signed_body)

    response = client.client.generic("POST", URL, sent_body, "application/json", **headers)

    assert response.status_code == 401


def test_missing_signature_headers_answer_401(partner_client):
    client = partner_client()
    response = client.client.post(
        URL, transaction_payload(), format="json", HTTP_X_SENTINEL_KEY=client.key_id
    )
    assert response.status_code == 401


def test_unsigned_request_answers_401(partner_client):
    response = partner_client().client.post(URL, transaction_payload(), format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_non_integer_timestamp_answers_401(partner_client):
    client = partner_client()
    body = json.dumps(transaction_payload()).encode()
    headers = client.headers(body)
    headers["HTTP_X_SENTINEL_TIMESTAMP"] = "12.5"
    response = client.client.generic("POST", URL, body, "application/json", **headers)
    assert response.status_code == 401


def test_unknown_and_revoked_keys_answer_401(partner_client):
    client = partner_client()
    api_key_revoke(api_key=client.api_key)  # never used, so never cached

    revoked = client.post(URL, transaction_payload())
    client.key_id = "sk_unknown_0000"
    unknown = client.post(URL, transaction_payload())

    assert revoked.status_code == 401
    assert unknown.status_code == 401
    assert not Transaction.objects.exists()


def test_a_partner_may_hold_several_live_keys_during_rotation(partner_client):
    client = partner_client()
    new_key, new_secret = api_key_create(partner=client.partner, label="rotation")
    old_answer = client.post(URL, transaction_payload())
    client.key_id, client.secret = new_key.key_id, new_secret
    new_answer = client.post(URL, transaction_payload())
    assert (old_answer.status_code, new_answer.status_code) == (201, 201)


def test_ip_allow_list_refuses_other_addresses(partner_client):
    client = partner_client()
    client.api_key.allowed_networks = ["10.0.0.0/8"]
    client.api_key.save()

    refused = client.post(URL, transaction_payload(), REMOTE_ADDR="192.0.2.1")
    allowed = client.post(URL, transaction_payload(), REMOTE_ADDR="10.1.2.3")

    assert refused.status_code == 403
    assert allowed.status_code == 201


def test_partners_cannot_see_each_others_transactions(partner_client):
    alpha, beta = partner_client("Alpha Bank"), partner_client("Beta Bank")
    created = alpha.post(URL, transaction_payload()).json()

    own = alpha.get(f"{URL}{created['id']}/")
    other = beta.get(f"{URL}{created['id']}/")
    listing = beta.get(URL)

    assert own.status_code == 200
    assert own.json()["external_id"] == created["external_id"]
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"
    assert listing.json()["results"] == []


def test_the_same_external_id_is_independent_per_partner(partner_client):
    alpha, beta = partner_client("Alpha Bank"), partner_client("Beta Bank")
    payload = transaction_payload()
    assert alpha.post(URL, payload).status_code == 201
    assert beta.post(URL, payload).status_code == 201


def test_detail_of_a_malformed_id_is_404(partner_client):
    client = partner_client()
    assert client.get(f"{URL}not-a-uuid/").status_code == 404
    assert client.get(f"{URL}00000000-0000-0000-0000-000000000000/").status_code == 404


def test_list_is_newest_first_and_filterable(partner_client):
    client = partner_client()
    client.post(URL, transaction_payload(external_id="old", occurred_at="2026-01-01T00:00:00Z"))
    client.post(
        URL,
        transaction_payload(
            external_id="new", occurred_at="2026-02-01T00:00:00Z", amount="20.00", type="p2p"
        ),
    )
    client.post(
        URL,
        transaction_payload(
            external_id="in",
            type="cash_deposit",
            direction="inbound",
            occurred_at="2026-01-15T00:00:00Z",
            beneficiary={"account_id": "Z5"},
        ),
    )

    def ids(params=None):
        return [row["external_id"] for row in client.get(URL, params).json()["results"]]

    assert ids() == ["new", "in", "old"]
    assert ids({"type": "p2p"}) == ["new"]
    assert ids({"max_amount": "100"}) == ["new"]
    assert ids({"min_amount": "100"}) == ["in", "old"]
    assert ids({"occurred_after": "2026-01-10T00:00:00Z"}) == ["new", "in"]
    assert ids({"occurred_before": "2026-01-10T00:00:00Z"}) == ["old"]
    assert ids({"account": "Z5"}) == ["in"]
    assert ids({"account": "B9"}) == ["new", "old"]
    assert ids({"status": "failed"}) == []


def test_list_with_an_invalid_filter_answers_400(partner_client):
    client = partner_client()
    response = client.get(URL, {"type": "teleport"})
    assert response.status_code == 400
    assert "type" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "10000000000000"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "100.5", "currency": "JPY"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": True}, "amount"),
        ({"currency": "ZZZ"}, "currency"),
        ({"currency": "usd"}, "currency"),
        ({"occurred_at": "2026-11-22T09:00:00"}, "occurred_at"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"type": "teleport"}, "type"),
        ({"status": "pending"}, "status"),
        ({"direction": "sideways"}, "direction"),
        ({"channel": "pigeon"}, "channel"),
        ({"external_id": "has spaces"}, "external_id"),
        ({"external_id": "x" * 65}, "external_id"),
        ({"latency_ms": "182"}, "latency_ms"),
        ({"ip_address": "999.1.1.1"}, "ip_address"),
        ({"mcc": "58"}, "mcc"),
        ({"metadata": {"blob": "x" * 5000}}, "metadata"),
        ({"metadata": []}, "metadata"),
        ({"unexpected": 1}, "unexpected"),
        ({"originator": {"account_id": "A1", "country": "XX"}}, "originator.country"),
        ({"originator": {"account_id": "A1", "nickname": "x"}}, "originator.nickname"),
        ({"originator": {"name": "no account"}}, "originator.account_id"),
        ({"type": "cash_deposit", "direction": None, "beneficiary": {}}, "beneficiary.account_id"),
    ],
)
def test_invalid_fields_answer_400_with_dotted_paths_and_store_nothing(
    partner_client, change, path
):
    client = partner_client()
    payload = transaction_payload(**change)
    if change.get("direction", "") is None:
        del payload["direction"]

    response = client.post(URL, payload)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert path in error["fields"], error
    assert not Transaction.objects.exists()


def test_missing_required_fields_are_all_reported(partner_client):
    response = partner_client().post(URL, {})
    fields = response.json()["error"]["fields"]
    assert response.status_code == 400
    assert {"external_id", "occurred_at", "amount", "currency", "type"} <= set(fields)


def test_three_decimal_currency_accepts_three_decimals(partner_client):
    response = partner_client().post(URL, transaction_payload(amount="12.345", currency="KWD"))
    assert response.status_code == 201


def test_numeric_amount_keeps_its_exact_value(partner_client):
    client = partner_client()
    raw = json.dumps(transaction_payload()).replace('"1500.00"', "0.29").encode()
    response = client.post(URL, raw=raw)
    assert response.status_code == 201
    assert Transaction.objects.get().amount == Decimal("0.29")


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"[1, 2]", b'{"amount": NaN}', b'{"a": 1, "a": 2}', b"\xff\xfe"],
    ids=["malformed", "empty", "array", "nan", "duplicate-key", "not-utf8"],
)
def test_unparseable_bodies_answer_400(partner_client, raw):
    response = partner_client().post(URL, raw=raw)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"malformed_json", "invalid"}


def test_wrong_content_type_answers_415(partner_client):
    client = partner_client()
    response = client.post(URL, transaction_payload(), content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_oversized_single_body_answers_413_before_reading(partner_client):
    client = partner_client()
    raw = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post(URL, raw=raw)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_batch_reports_each_item_on_its_own(partner_client):
    client = partner_client()
    existing = transaction_payload()
    client.post(URL, existing)
    items = [
        transaction_payload(external_id="fresh"),
        existing,
        {**existing, "amount": "1.00"},
        transaction_payload(amount="-1"),
        "not an object",
    ]

    response = client.post(BATCH_URL, {"transactions": items})

    body = response.json()
    assert response.status_code == 200
    assert [row["status"] for row in body["results"]] == [
        "created",
        "duplicate",
        "conflict",
        "invalid",
        "invalid",
    ]
    assert [row["index"] for row in body["results"]] == [0, 1, 2, 3, 4]
    assert body["results"][3]["errors"] == {"amount": ["Must be greater than zero."]}
    assert (body["created"], body["duplicate"], body["conflict"], body["invalid"]) == (1, 1, 1, 2)
    assert Transaction.objects.count() == 2


def test_batch_with_a_repeated_external_id_stores_it_once(partner_client):
    client = partner_client()
    item = transaction_payload()
    body = client.post(BATCH_URL, {"transactions": [item, item]}).json()
    assert [row["status"] for row in body["results"]] == ["created", "duplicate"]
    assert Transaction.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [{"transactions": []}, {"transactions": "x"}, {}, {"transactions": [{}], "extra": 1}],
    ids=["empty", "not-a-list", "missing", "unknown-field"],
)
def test_malformed_batches_answer_400(partner_client, body):
    response = partner_client().post(BATCH_URL, body)
    assert response.status_code == 400
    assert response.json()["error"]["fields"]


def test_batch_of_more_than_1000_answers_400(partner_client):
    client = partner_client()
    items = [transaction_payload() for _ in range(1001)]
    response = client.post(BATCH_URL, {"transactions": items})
    assert response.status_code == 400
    assert not Transaction.objects.exists()


def test_batch_over_16_mib_answers_413(partner_client):
    raw = b'{"transactions": ["' + b"x" * (16 * 1024 * 1024) + b'"]}'
    response = partner_client().post(BATCH_URL, raw=raw)
    assert response.status_code == 413


def test_rate_limit_answers_429_with_retry_after(partner_client):
    client = partner_client()
    client.partner.rate_limit_per_minute = 2
    client.partner.save()

    answers = [client.get(URL).status_code for _ in range(3)]
    limited = client.get(URL)

    assert answers == [200, 200, 429]
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"


def test_rate_limits_are_per_partner(partner_client):
    alpha, beta = partner_client("Alpha Bank"), partner_client("Beta Bank")
    alpha.partner.rate_limit_per_minute = 1
    alpha.partner.save()
    alpha.get(URL)
    assert alpha.get(URL).status_code == 429
    assert beta.get(URL).status_code == 200


def test_inactive_partner_is_refused(partner_client):
    client = partner_client()
    client.partner.is_active = False
    client.partner.save()
    assert client.post(URL, transaction_payload()).status_code == 401


def test_staff_with_view_permission_read_all_partners_but_cannot_submit(
    partner_client, django_user_model
):
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    alpha = partner_client("Alpha Bank")
    alpha.post(URL, transaction_payload())
    investigator = django_user_model.objects.create_user("ivy", password="pw-long-enough")
    investigator.groups.add(Group.objects.get(name="Investigator"))
    staff = APIClient()
    staff.force_authenticate(investigator)

    listing = staff.get(URL)
    submit = staff.post(URL, transaction_payload(), format="json")

    assert listing.status_code == 200
    assert len(listing.json()["results"]) == 1
    assert submit.status_code == 403


def test_user_without_permission_sees_nothing(partner_client, django_user_model):
    from rest_framework.test import APIClient

    partner_client().post(URL, transaction_payload())
    nobody = APIClient()
    nobody.force_authenticate(django_user_model.objects.create_user("nobody"))
    assert nobody.get(URL).status_code == 403


@pytest.mark.parametrize(
    ("moment", "status"),
    [
        ("5075-02-06T16:02:29.3+16:29", 200),  # far off, but a moment in UTC
        ("0001-01-01T00:00:00+01:00", 400),  # before year 1 once in UTC
        ("9999-12-31T23:59:59-01:00", 400),  # after year 9999 once in UTC
    ],
)
def test_extreme_filter_timestamps_are_handled(partner_client, moment, status):
    response = partner_client().get(URL, {"occurred_before": moment})
    assert response.status_code == status
    if status == 400:
        assert "occurred_before" in response.json()["error"]["fields"]


def test_revocation_applies_at_once_even_to_a_cached_key(
    partner_client, django_capture_on_commit_callbacks
):
    client = partner_client()
    assert client.get(URL).status_code == 200  # the key is now cached in this process

    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(api_key=client.api_key)

    assert client.get(URL).status_code == 401


def test_unknown_api_paths_answer_the_json_error(partner_client):
    response = partner_client().get("/api/v1/transactions/%C2%84/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
