"""POST /api/v1/transactions/<id>/feedback/: a partner's outcome on its own transaction,
through the public, signed surface."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group

from transactions.models import TransactionLabel, TransactionLabelEvent
from transactions.tests.factories import transaction_payload

URL = "/api/v1/transactions/"

pytestmark = pytest.mark.django_db


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _yesterday() -> str:
    return _iso(datetime.now(UTC) - timedelta(days=1))


@pytest.fixture
def sent(partner_client):
    """A partner's client and the id of one transaction it sent."""
    client = partner_client()
    response = client.post(URL, transaction_payload())
    assert response.status_code == 201, response.content
    return client, response.json()["id"]


def _feedback(client, transaction_id: str, body) -> object:
    return client.post(f"{URL}{transaction_id}/feedback/", body)


def test_first_outcome_is_201_and_shown_on_the_transaction(sent):
    client, tx = sent
    occurred = _yesterday()

    response = _feedback(client, tx, {"outcome": "chargeback", "occurred_at": occurred})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["transaction"] == tx
    assert body["outcome"] == "chargeback"
    assert body["occurred_at"] == occurred
    assert body["reason"] is None
    assert body["received_at"]
    shown = client.get(f"{URL}{tx}/").json()["feedback"]
    assert shown == {key: body[key] for key in ("outcome", "occurred_at", "reason", "received_at")}
    label = TransactionLabel.objects.get()
    assert (label.source, label.weight, label.actor) == ("partner_feedback", 1, None)
    assert label.reference == f"key {client.key_id}"


def test_a_later_outcome_replaces_it_with_200_and_the_history_keeps_both(sent):
    client, tx = sent
    _feedback(client, tx, {"outcome": "legitimate", "occurred_at": _yesterday()})

    response = _feedback(
        client,
        tx,
        {"outcome": "confirmed_fraud", "occurred_at": _yesterday(), "reason": "customer call"},
    )

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "confirmed_fraud"
    assert client.get(f"{URL}{tx}/").json()["feedback"]["reason"] == "customer call"
    assert TransactionLabel.objects.count() == 1
    history = TransactionLabelEvent.objects.filter(transaction_id=tx).order_by("received_at", "id")
    assert [event.outcome for event in history] == ["legitimate", "confirmed_fraud"]


def test_the_same_body_again_is_200_and_records_nothing(sent):
    client, tx = sent
    body = {"outcome": "chargeback", "occurred_at": _yesterday(), "reason": "dispute 42"}
    first = _feedback(client, tx, body)

    again = _feedback(client, tx, body)
    # the same instant written with another offset is the same body
    moment = datetime.fromisoformat(body["occurred_at"]).astimezone(
        datetime.now().astimezone().tzinfo
    )
    reworded = _feedback(client, tx, {**body, "occurred_at": moment.isoformat()})

    assert again.status_code == 200
    assert reworded.status_code == 200
    assert again.json() == first.json()
    assert TransactionLabelEvent.objects.count() == 1


def test_the_transaction_list_shows_feedback_or_null(sent, partner_client):
    client, tx = sent
    _feedback(client, tx, {"outcome": "unknown", "occurred_at": _yesterday()})

    rows = client.get(URL).json()["results"]

    assert [row["feedback"]["outcome"] for row in rows] == ["unknown"]
    other = partner_client("Other Bank")
    other.post(URL, transaction_payload())
    assert [row["feedback"] for row in other.get(URL).json()["results"]] == [None]


def test_another_partners_transaction_is_404_and_unchanged(sent, partner_client):
    owner, tx = sent
    intruder = partner_client("Intruder Bank")

    response = _feedback(intruder, tx, {"outcome": "legitimate", "occurred_at": _yesterday()})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not TransactionLabel.objects.exists()
    assert owner.get(f"{URL}{tx}/").json()["feedback"] is None


@pytest.mark.parametrize(
    "path_id",
    [str(uuid.uuid4()), "-" * 36, "0" * 32 + "----", "not-a-uuid"],
    ids=["unknown", "dashes", "malformed", "not-hex"],
)
def test_unknown_or_malformed_ids_are_404(partner_client, path_id):
    client = partner_client()

    response = _feedback(client, path_id, {"outcome": "legitimate", "occurred_at": _yesterday()})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_404_does_not_depend_on_the_body(sent, partner_client):
    """An intruder learns nothing by sending a bad body either: 404 first."""
    _, tx = sent
    intruder = partner_client("Intruder Bank")

    assert _feedback(intruder, tx, {"outcome": "nonsense"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"outcome": "fraud", "occurred_at": "2026-01-01T00:00:00Z"}, "outcome", "valid choice"),
        ({"outcome": "suspicious", "occurred_at": "2026-01-01T00:00:00Z"}, "outcome", "choice"),
        ({"outcome": ["legitimate"], "occurred_at": "2026-01-01T00:00:00Z"}, "outcome", "choice"),
        ({"occurred_at": "2026-01-01T00:00:00Z"}, "outcome", "required"),
        ({"outcome": "legitimate"}, "occurred_at", "required"),
        ({"outcome": "legitimate", "occurred_at": "2026-01-01T00:00:00"}, "occurred_at", "offset"),
        ({"outcome": "legitimate", "occurred_at": "2026-01-01"}, "occurred_at", "offset"),
        ({"outcome": "legitimate", "occurred_at": "yesterday"}, "occurred_at", "ISO 8601"),
        ({"outcome": "legitimate", "occurred_at": 1767225600}, "occurred_at", "string"),
        ({"outcome": "legitimate", "occurred_at": "1969-12-31T23:59:59Z"}, "occurred_at", "1970"),
        (
            {"outcome": "legitimate", "occurred_at": "2026-01-01T00:00:00Z", "reason": "x" * 1001},
            "reason",
            "1000",
        ),
        (
            {"outcome": "legitimate", "occurred_at": "2026-01-01T00:00:00Z", "reason": 42},
            "reason",
            "valid string",
        ),
        (
            {"outcome": "legitimate", "occurred_at": "2026-01-01T00:00:00Z", "reason": "a\x00b"},
            "reason",
            "Null characters",
        ),
        (
            {"outcome": "legitimate", "occurred_at": "2026-01-01T00:00:00Z", "weight": 0.1},
            "weight",
            "Unknown field",
        ),
    ],
    ids=[
        "unknown-outcome",
        "staff-only-outcome",
        "outcome-list",
        "no-outcome",
        "no-occurred-at",
        "naive",
        "date-only",
        "not-a-time",
        "number",
        "before-1970",
        "reason-too-long",
        "reason-number",
        "reason-nul",
        "unknown-field",
    ],
)
def test_bad_input_is_400_with_the_field_path_and_records_nothing(sent, body, field, fragment):
    client, tx = sent

    response = _feedback(client, tx, body)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert fragment.lower() in " ".join(error["fields"][field]).lower()
    assert not TransactionLabel.objects.exists()
    assert not TransactionLabelEvent.objects.exists()


def test_an_occurred_at_in_the_future_is_400_beyond_five_minutes_of_skew(sent):
    client, tx = sent
    soon = _iso(datetime.now(UTC) + timedelta(minutes=2))
    later = _iso(datetime.now(UTC) + timedelta(minutes=10))

    refused = _feedback(client, tx, {"outcome": "legitimate", "occurred_at": later})
    accepted = _feedback(client, tx, {"outcome": "legitimate", "occurred_at": soon})

    assert refused.status_code == 400
    assert "future" in refused.json()["error"]["fields"]["occurred_at"][0]
    assert accepted.status_code == 201


@pytest.mark.parametrize("raw", [b"[]", b'"legitimate"', b"{not json"], ids=str)
def test_a_body_that_is_not_an_object_is_400(sent, raw):
    client, tx = sent

    response = client.post(f"{URL}{tx}/feedback/", raw=raw)

    assert response.status_code == 400
    assert not TransactionLabel.objects.exists()


def test_unsigned_or_badly_signed_requests_are_401(sent):
    client, tx = sent
    body = {"outcome": "legitimate", "occurred_at": _yesterday()}

    unsigned = client.client.post(
        f"{URL}{tx}/feedback/", json.dumps(body), content_type="application/json"
    )
    forged = client.post(f"{URL}{tx}/feedback/", body, secret="not-the-secret")

    assert unsigned.status_code == 401
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "authentication_failed"
    assert not TransactionLabel.objects.exists()


def test_staff_may_read_feedback_but_not_send_it(sent, client, django_user_model):
    _, tx = sent
    staff = django_user_model.objects.create_user("ivy", password="pw-long-enough", is_staff=True)
    staff.groups.add(Group.objects.get(name="Investigator"))
    client.force_login(staff)

    response = client.post(
        f"{URL}{tx}/feedback/",
        {"outcome": "legitimate", "occurred_at": _yesterday()},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert client.get(f"{URL}{tx}/").json()["feedback"] is None


def test_feedback_counts_against_the_partners_rate_limit(partner_client):
    client = partner_client()
    client.partner.rate_limit_per_minute = 3
    client.partner.save()
    tx = client.post(URL, transaction_payload()).json()["id"]
    body = {"outcome": "legitimate", "occurred_at": _yesterday()}

    answers = [_feedback(client, tx, body).status_code for _ in range(4)]

    # the transaction's own POST took the first token
    assert answers == [201, 200, 429, 429]
    assert TransactionLabelEvent.objects.count() == 1


def test_the_openapi_schema_describes_the_endpoint(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/transactions/{id}/feedback/"]["post"]
    assert {"200", "201", "400", "401", "404", "429"} <= set(operation["responses"])
    request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = request.rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][name]["properties"]
    assert set(properties) == {"outcome", "occurred_at", "reason"}
    transaction = schema["components"]["schemas"]["Transaction"]["properties"]
    assert "feedback" in transaction
