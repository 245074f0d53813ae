"""Pre-filling a SAR draft from real Transactions stored by the ingest service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from lxml import etree

from cases.sar import (
    sar_document_from_case,
    sar_source_from_transactions,
    sar_to_json,
    sar_to_pdf,
    sar_to_xml,
)
from sentinel.pipeline.orchestrator import transactions_process
from transactions import services
from transactions.models import ExchangeRate
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db


def stored_rate(model, base: str, quote: str, rate: str) -> None:
    """A rate entered by staff for today (the network's transactions are a minute old)."""
    model.objects.create(
        date=datetime.now(UTC).date(), base=base, quote=quote, rate=rate, source="manual"
    )


def ingest(partner, **overrides):
    result = services.transaction_ingest(partner=partner, payload=transaction_payload(**overrides))
    assert result.status == "created", result.errors
    transactions_process(transaction_ids=[result.id])
    return result.id


@pytest.fixture
def network():
    partner = PartnerBankFactory(name="Acme Bank", slug="acme")
    other = PartnerBankFactory(name="Other Bank", slug="other")
    ana = {"account_id": "A1", "customer_id": "C1", "name": "Ana Lima", "country": "US"}
    ids = [
        ingest(partner, amount="9500.00", originator={**ana, "bank": "ACMEUS33"}),
        ingest(partner, amount="9400.00", originator={**ana, "bank": "ACMEUS33"}),
        ingest(
            partner,
            amount="120000",
            currency="JPY",
            originator={**ana, "bank": "ACMEUS33"},
        ),
        # Money in from another Acme client: recorded on Dan's side, Ana is the beneficiary.
        ingest(
            partner,
            amount="300.00",
            originator={
                "account_id": "D1",
                "customer_id": "C4",
                "name": "Dan Roe",
                "country": "US",
            },
            beneficiary={**ana, "bank": "ACMEUS33"},
        ),
        ingest(
            partner,
            amount="42.00",
            originator={"account_id": "X1", "customer_id": "C9", "name": "Xi Unrelated"},
        ),
    ]
    # The other partner's transaction from an account with the same id never shows up.
    ingest(other, amount="777.00", originator={**ana, "bank": "OTHRUS33"})
    return partner, ids


def test_source_from_the_database_prefills_the_draft(network, django_assert_max_num_queries):
    partner, ids = network
    user = get_user_model().objects.create_user(
        "rita", email="rita@acme.example", first_name="Rita", last_name="Reyes"
    )
    stored_rate(ExchangeRate, "JPY", "USD", "0.0067")
    # + the partner's registered reporting entity, + the stored exchange rates
    with django_assert_max_num_queries(6):
        source = sar_source_from_transactions(
            partner=partner,
            customer_external_id="C1",
            reference="CASE-7",
            typologies=["structuring"],
            narrative="Two transfers just below 10,000.",
            prepared_by=user,
            submission_date=datetime(2025, 3, 10, tzinfo=UTC),
        )
    assert source.subject.name == "Ana Lima"
    assert source.subject.accounts == ["A1"]
    assert len(source.transactions) == 4
    assert source.client_accounts["D1"] == "C4"

    source.reporting_entity.rentity_id = 99
    doc = sar_document_from_case(source)
    assert doc.currency_code_local == "USD"
    assert doc.subject.name == "Ana Lima" and doc.subject.transaction_count == 4
    assert doc.reporting_entity.reporting_person.last_name == "Reyes"
    assert [a.account for a in doc.accounts] == ["A1"]
    assert {p.name for p in doc.counterparties} == {"Bo Chen", "Dan Roe"}
    dan = next(p for p in doc.counterparties if p.name == "Dan Roe")
    assert dan.is_my_client
    assert doc.totals_by_currency()["USD"][1] == 19200
    assert doc.totals_by_currency()["JPY"][1] == 120000
    assert [tx.internal_ref_number for tx in doc.transactions] == [str(i) for i in ids[:4]]

    root = etree.fromstring(sar_to_xml(doc))
    incoming = root.find("transaction[4]")
    assert incoming.findtext("t_from_my_client/from_account/account") == "D1"
    assert incoming.findtext("t_to_my_client/to_account/account") == "A1"
    assert incoming.findtext("t_to_my_client/to_account/institution_name") == "Acme Bank"
    jpy = root.find("transaction[3]")
    assert jpy.findtext("amount_local") == "804.00"
    assert jpy.findtext("t_from_my_client/from_foreign_currency/foreign_amount") == "120000"
    today = datetime.now(UTC).date().isoformat()
    assert jpy.findtext("comments").endswith(f"Converted at 0.0067 USD per JPY (manual, {today})")
    assert sar_to_json(doc)
    assert sar_to_pdf(doc).startswith(b"%PDF")


def test_queryset_and_period_can_be_given(network):
    from transactions.models import Transaction

    partner, ids = network
    source = sar_source_from_transactions(
        partner=partner,
        customer_external_id="C1",
        reference="CASE-8",
        transactions=Transaction.objects.filter(id__in=ids[:2]),
    )
    assert len(source.transactions) == 2
    assert source.reporting_entity.rentity_id is None  # not configured for this partner
    future = sar_source_from_transactions(
        partner=partner,
        customer_external_id="C1",
        reference="CASE-8",
        since=datetime(2100, 1, 1, tzinfo=UTC),
    )
    assert future.transactions == []


def test_reporting_entity_comes_from_settings(network, settings):
    partner, _ = network
    settings.SENTINEL_SAR_REPORTING_ENTITIES = {
        "acme": {"rentity_id": "321", "swift": "ACMEUS33", "indicator_codes": {"structuring": "S1"}}
    }
    source = sar_source_from_transactions(
        partner=partner,
        customer_external_id="C1",
        reference="CASE-9",
        typologies=["structuring"],
        narrative="n",
    )
    doc = sar_document_from_case(source)
    assert doc.reporting_entity.rentity_id == 321
    assert doc.indicators[0].code == "S1"
    assert doc.accounts[0].swift == "ACMEUS33"
