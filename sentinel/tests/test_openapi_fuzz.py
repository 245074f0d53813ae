"""The partner API fuzzed from its own OpenAPI document, every request signed like a bank's.

Schemathesis reads /api/schema/ from the app and generates valid and invalid requests for every
/api/v1/ operation. Each request is signed over the exact bytes that are sent, so the fuzzer
reaches the views instead of bouncing off authentication. The runs are derandomized: CI sees
the same requests every time.

Operations are parametrized with plain pytest rather than `schema.parametrize()`: under pytest 9
the items schemathesis makes all share one node id, which pytest-xdist cannot schedule.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from transactions.api.authentication import sign
from transactions.services import transaction_ingest
from transactions.tests.factories import transaction_payload

SCHEMA_URL = "/api/schema/?format=json"
LIST_PATH = "/api/v1/transactions/"
BATCH_PATH = "/api/v1/transactions/batch/"
# DRF's convention, which the contract defers to: an unusable page_size falls back to the default.
LENIENT_QUERY_PARAMETERS = frozenset({"page_size"})
EXAMPLES_PER_OPERATION = 50

CONFIG = schemathesis.Config.from_dict(
    # Credentials come from signing (below), not from the schema's security schemes.
    {"generation": {"with-security-parameters": False}}
)

schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, get_wsgi_application(), config=CONFIG).include(
    path_regex="^/api/v1/"
)
# An operation the schema describes in a way schemathesis cannot use fails its test, loudly.
OPERATIONS = [result.ok() for result in schema.get_all_operations()]

fuzz_settings = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


class PartnerKey(Protocol):
    key_id: str
    secret: str


# Transactional: ingest schedules profiling and scoring with on_commit, and those must run too.
fuzz_db = pytest.mark.django_db(transaction=True)


@pytest.fixture
def partner(partner_client):
    """A partner with a live key and stored transactions, so reads return real records."""
    client = partner_client("Fuzz Bank")
    complete = transaction_payload()
    minimal = {
        key: complete[key] for key in ("external_id", "occurred_at", "amount", "currency", "type")
    }
    minimal.update(external_id="fuzz-minimal", originator={"account_id": "A2"})
    for payload in (complete, minimal):
        assert transaction_ingest(partner=client.partner, payload=payload).status == "created"
    return client


def raw_body(case: schemathesis.Case) -> bytes:
    """The bytes sent for this case: JSON encoded as the WSGI transport would encode it."""
    kwargs = case.as_transport_kwargs()
    if "json" in kwargs:
        return json.dumps(kwargs["json"]).encode()
    data: Any = kwargs.get("data") or b""
    if isinstance(data, dict):  # multipart (attachment upload): signed as empty, answers 401
        return b""
    return data.encode() if isinstance(data, str) else bytes(data)


def signed_headers(key_id: str, secret: str, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "X-Sentinel-Key": key_id,
        "X-Sentinel-Timestamp": str(timestamp),
        "X-Sentinel-Signature": sign(secret, timestamp, body),
    }


def call_signed(case: schemathesis.Case, key_id: str, secret: str) -> schemathesis.Response:
    """Send the case with the body passed explicitly, so the signed bytes are the sent bytes."""
    body = raw_body(case)
    headers = signed_headers(key_id, secret, body)
    if body:
        return case.call(headers=headers, data=body)
    return case.call(headers=headers)


def invalid_input_is_refused(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Schema-violating requests answer 4xx, except where the contract says otherwise.

    The batch endpoint is the exception: "one bad item never rejects the others", so a batch
    whose envelope is fine but whose items are not objects answers 200 with those items
    reported "invalid". Anything else wrong with a batch body is still refused.
    """
    is_batch = case.operation.path == BATCH_PATH and case.method == "POST"
    if is_batch and response.status_code == 200:
        items = _batch_items(case.body)
        if items is not None:
            results = response.json()["results"]
            assert len(results) == len(items), "every batch item gets a result"
            for item, result in zip(items, results, strict=True):
                if not isinstance(item, dict):
                    assert result["status"] == "invalid", f"item {item!r} was not refused"
            return True
    if _only_lenient_parameters_are_invalid(case):
        return None
    return negative_data_rejection(ctx, response, case)


def _only_lenient_parameters_are_invalid(case: schemathesis.Case) -> bool:
    data = case.meta.phase.data if case.meta is not None else None
    mutations = getattr(data, "mutations", ()) or [data]

    def lenient(mutation) -> bool:
        if getattr(mutation, "parameter_location", None) != ParameterLocation.QUERY:
            return False
        name = getattr(mutation, "parameter", None)
        # django-filter's convention: an empty filter value means "not filtered" (an empty
        # object or list reaches the server as an empty value too).
        return name in LENIENT_QUERY_PARAMETERS or (case.query or {}).get(name) in ("", {}, [])

    return all(lenient(mutation) for mutation in mutations)


def _batch_items(body: object) -> list | None:
    """The items of a batch body whose envelope is valid, or None."""
    if not isinstance(body, dict) or set(body) != {"transactions"}:
        return None
    items = body["transactions"]
    return items if isinstance(items, list) and 1 <= len(items) <= 1000 else None


def requests_for(operation: schemathesis.APIOperation) -> st.SearchStrategy[schemathesis.Case]:
    """Requests the schema allows, and requests it almost allows (one part made invalid)."""
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )


def fuzz(
    operation: schemathesis.APIOperation,
    partner: PartnerKey,
    checks: list[schemathesis.CheckFunction],
) -> None:
    """Send generated requests for one operation, signed by the partner, and run the checks."""

    @fuzz_settings
    @given(case=requests_for(operation))
    def send(case: schemathesis.Case) -> None:
        response = call_signed(case, partner.key_id, partner.secret)
        case.validate_response(response, checks=checks)

    send()


@fuzz_db
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_request_makes_the_server_fail(operation, partner):
    # Given any request the schema allows, or almost allows, signed with a live partner key
    # When it is sent
    # Then the server never answers 5xx
    fuzz(operation, partner, checks=[not_a_server_error])


@fuzz_db
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_every_answer_is_the_documented_one(operation, partner):
    # Given any request the schema allows, or almost allows, signed with a live partner key
    # When it is sent
    # Then its status, content type and body are the ones the OpenAPI document promises,
    # and invalid input is refused
    fuzz(
        operation,
        partner,
        checks=[
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            invalid_input_is_refused,
        ],
    )


# Inputs the fuzzer once found, kept as fixed examples so they stay fixed.
@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        # PostgreSQL accepts UTC offsets up to 15:59 only
        {"occurred_after": "2026-01-01T00:00:00+16:00"},
        {"occurred_before": "2026-01-01T00:00:00-23:46"},
        {"occurred_after": "0064-07-23T13:23:50+23:46"},
    ],
)
def test_found_inputs_do_not_make_the_server_fail(partner_client, query):
    # Given a partner's signed list request with a filter the fuzzer once tried
    client = partner_client()

    # When it is sent
    response = client.get(LIST_PATH, query)

    # Then the answer is a clean 2xx or 400, never a server error
    assert response.status_code in (200, 400), response.content
