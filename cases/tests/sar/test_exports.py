"""SAR exports: goAML element order, schema validation, escaping, currencies and the PDF."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree
from pypdf import PdfReader

from cases.sar import (
    SarValidationError,
    sar_document_from_case,
    sar_exports,
    sar_to_json,
    sar_to_pdf,
    sar_to_xml,
    sha256,
    validate_json,
    validate_xml,
)
from cases.sar.document import SarDocument
from transactions.selectors import AppliedRate

from .conftest import contract_tx

REPORT_ORDER = [
    "rentity_id",
    "submission_code",
    "report_code",
    "entity_reference",
    "submission_date",
    "currency_code_local",
    "reporting_person",
    "reason",
    "action",
    "transaction",
    "report_indicators",
]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_xml_follows_goaml_order_and_validates(make_source):
    doc = sar_document_from_case(make_source([contract_tx(1), contract_tx(2, amount="250.5")]))
    data = sar_to_xml(doc)
    validate_xml(data)  # also done inside sar_to_xml
    root = etree.fromstring(data)
    assert root.tag == "report"
    names = list(dict.fromkeys(child.tag for child in root))
    assert names == REPORT_ORDER
    tx = root.find("transaction")
    assert [c.tag for c in tx] == [
        "transactionnumber",
        "internal_ref_number",
        "transaction_description",
        "date_transaction",
        "transmode_code",
        "amount_local",
        "t_from_my_client",
        "t_to",
        "comments",
    ]
    assert tx.findtext("amount_local") == "1500.00"
    assert tx.findtext("date_transaction") == "2025-03-01T10:30:00+00:00"
    source = tx.find("t_from_my_client")
    assert [c.tag for c in source] == ["from_funds_code", "from_account", "from_country"]
    account = source.find("from_account")
    assert account.findtext("swift") == "ACMEUS33"
    assert account.findtext("account") == "A1"
    assert account.findtext("signatory/t_person/last_name") == "Lima"
    assert account.findtext("signatory/t_person/first_name") == "Ana"
    target = tx.find("t_to")
    assert target.findtext("to_account/swift") == "DBSSSGSG"
    assert target.findtext("to_account/account_name") == "Bo Chen"
    assert target.findtext("to_country") == "SG"
    assert root.findtext("reporting_person/last_name") == "Reyes"
    assert [i.text for i in root.iterfind("report_indicators/indicator")] == [
        "structuring",
        "high_risk_country",
    ]
    assert root.find("transaction[2]/amount_local").text == "250.50"


def test_json_mirrors_xml_and_validates(make_source):
    doc = sar_document_from_case(make_source([contract_tx(1), contract_tx(2)]))
    data = sar_to_json(doc)
    validate_json(data)
    payload = json.loads(data)
    assert payload["format"] == "sentinel-goaml-sar"
    report = payload["report"]
    assert list(report) == REPORT_ORDER
    assert report["rentity_id"] == "4711"
    assert report["transaction"][0]["t_from_my_client"]["from_account"]["account"] == "A1"
    assert payload["summary"]["totals"] == [{"currency": "USD", "count": 2, "amount": "3000.00"}]
    assert payload["summary"]["period_from"] == "2025-03-01T10:30:00+00:00"
    subject = payload["involved_parties"][0]
    assert subject["role"] == "subject" and subject["name"] == "Ana Lima"
    assert subject["accounts"] == ["A1"] and subject["transaction_count"] == 2
    counterparty = payload["involved_parties"][1]
    assert counterparty["name"] == "Bo Chen" and counterparty["is_my_client"] is False


def test_hand_broken_xml_fails_with_a_clear_message(make_source):
    data = sar_to_xml(sar_document_from_case(make_source()))
    root = etree.fromstring(data)
    root.remove(root.find("rentity_id"))
    with pytest.raises(SarValidationError) as caught:
        validate_xml(etree.tostring(root))
    message = str(caught.value)
    assert "SAR XML is not valid" in message
    assert "Expected is ( rentity_id )" in message

    root = etree.fromstring(data)
    root.find("transaction/amount_local").text = "12,50"
    with pytest.raises(SarValidationError) as caught:
        validate_xml(etree.tostring(root))
    (problem,) = caught.value.problems
    assert "/report/transaction/amount_local" in problem and "'12,50'" in problem

    with pytest.raises(SarValidationError, match="not well-formed"):
        validate_xml(b"<report><unclosed></report>")


def test_hand_broken_json_fails_with_a_clear_message(make_source):
    payload = json.loads(sar_to_json(sar_document_from_case(make_source())))
    del payload["report"]["reason"]
    payload["report"]["transaction"][0]["amount_local"] = 1500
    payload["report"]["surprise"] = "x"
    with pytest.raises(SarValidationError) as caught:
        validate_json(json.dumps(payload).encode())
    problems = caught.value.problems
    assert any("'reason' is a required property" in p for p in problems)
    assert any(p.startswith("report/transaction/0/amount_local") for p in problems)
    assert any("surprise" in p for p in problems)


def test_export_refuses_an_incomplete_document(make_source, entity):
    entity.rentity_id = None
    doc = sar_document_from_case(make_source(typologies=[], narrative="  "))
    for export in (sar_to_xml, sar_to_json, sar_to_pdf):
        with pytest.raises(SarValidationError) as caught:
            export(doc)
        text = str(caught.value)
        assert "rentity_id" in text
        assert "narrative is empty" in text
        assert "at least one indicator" in text


def test_narrative_with_markup_unicode_and_control_characters(make_source):
    narrative = (
        "<script>alert('x')</script> & \"quotes\" ]]> Ünïcødé Ελληνικά 中文 😀\n"
        "second line\x00\x07\x1b\x7f\x85 end\r\nthird"
    )
    doc = sar_document_from_case(
        make_source(narrative=narrative, action="<b>frozen</b>", reference="CASE-<1>")
    )
    assert "\x00" not in doc.reason and "\x1b" not in doc.reason and "\x85" not in doc.reason
    xml = sar_to_xml(doc)
    assert b"<script>" not in xml and b"&lt;script&gt;" in xml
    assert b"<b>" not in xml
    root = etree.fromstring(xml)
    expected = (
        "<script>alert('x')</script> & \"quotes\" ]]> Ünïcødé Ελληνικά 中文 😀\n"
        "second line end\nthird"
    )
    assert root.findtext("reason") == expected
    assert root.findtext("entity_reference") == "CASE-<1>"
    assert json.loads(sar_to_json(doc))["report"]["reason"] == expected
    text = pdf_text(sar_to_pdf(doc))
    assert "<script>alert('x')</script>" in text
    assert "Ünïcødé Ελληνικά" in text
    assert "<b>frozen</b>" in text


def test_names_with_markup_in_transactions_are_escaped(make_source):
    tx = contract_tx(1)
    tx["beneficiary"] = {**tx["beneficiary"], "name": "Evil <img src=x onerror=alert(1)> Co"}
    doc = sar_document_from_case(make_source([tx]))
    xml = sar_to_xml(doc)
    assert b"<img" not in xml
    flat = " ".join(pdf_text(sar_to_pdf(doc)).split())  # table cells wrap
    assert "Evil <img src=x onerror=alert(1)> Co" in flat


def test_jpy_has_no_decimals_and_bhd_three(make_source):
    transactions = [
        contract_tx(1, amount="150000", currency="JPY"),
        contract_tx(2, amount="1.25", currency="BHD"),
        contract_tx(3, amount="0.5", currency="BHD"),
    ]
    doc = sar_document_from_case(
        make_source(
            transactions,
            currency_code_local="BHD",
            rates={
                ("JPY", date(2025, 3, 1)): AppliedRate(
                    "JPY", "BHD", Decimal("0.0025"), date(2025, 2, 28), "manual"
                )
            },
        )
    )
    root = etree.fromstring(sar_to_xml(doc))
    first, second, _ = root.findall("transaction")
    assert first.findtext("amount_local") == "375.000"
    foreign = first.find("t_from_my_client/from_foreign_currency")
    assert foreign.findtext("foreign_currency_code") == "JPY"
    assert foreign.findtext("foreign_amount") == "150000"
    assert foreign.findtext("foreign_exchange_rate") == "0.0025"
    assert first.find("t_to/to_foreign_currency") is not None
    assert first.findtext("comments").endswith(
        "Converted at 0.0025 BHD per JPY (manual, 2025-02-28)"
    )
    assert second.findtext("amount_local") == "1.250"
    assert second.find("t_from_my_client/from_foreign_currency") is None

    summary = json.loads(sar_to_json(doc))["summary"]
    assert summary["totals"] == [
        {"currency": "BHD", "count": 2, "amount": "1.750"},
        {"currency": "JPY", "count": 1, "amount": "150000"},
    ]
    assert summary["total_local"] == "376.750"
    assert summary["exchange_rates"] == [
        {
            "currency": "JPY",
            "currency_local": "BHD",
            "rate": "0.0025",
            "date": "2025-02-28",
            "source": "manual",
            "count": 1,
        }
    ]
    text = pdf_text(sar_to_pdf(doc))
    assert "150,000 JPY" in text
    assert "1.750 BHD" in text
    assert "376.750 BHD" in text


def test_a_missing_exchange_rate_is_named(make_source):
    doc = sar_document_from_case(make_source([contract_tx(1), contract_tx(2, currency="EUR")]))
    assert doc.currency_code_local in {"USD", "EUR"}
    missing = "no stored (EUR→USD|USD→EUR) exchange rate for 2025-03-01 .* import_rates"
    with pytest.raises(SarValidationError, match=missing):
        sar_to_xml(doc)


def test_pdf_is_a_paginated_filing_document(make_source):
    transactions = [contract_tx(n, amount=f"{900 + n}.10") for n in range(1, 121)]
    doc = sar_document_from_case(make_source(transactions))
    data = sar_to_pdf(doc)
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    assert pages >= 3
    text = pdf_text(data)
    assert "Ana Lima" in text
    assert "Acme Bank" in text
    assert "Reason for suspicion" in text
    total = sum(Decimal(f"{900 + n}.10") for n in range(1, 121))
    assert f"{total:,.2f} USD" in text
    assert f"Page 1 of {pages}" in text
    assert "Structuring just below the threshold" in text
    assert "Bo Chen" in text
    assert reader.metadata.title.startswith("Suspicious activity report (SAR)")


def test_exports_carry_their_hashes_and_are_deterministic(make_source):
    doc = sar_document_from_case(make_source())
    exports = sar_exports(doc)
    assert set(exports) == {"xml", "json", "pdf"}
    for export in exports.values():
        assert export.sha256 == sha256(export.content)
        assert len(export.sha256) == 64
    assert exports["xml"].filename == "sar-CASE-2025-0042-20250310.xml"
    assert exports["pdf"].media_type == "application/pdf"
    assert sar_to_xml(doc) == exports["xml"].content
    assert sar_to_json(doc) == exports["json"].content


def test_the_editable_draft_round_trips(make_source):
    doc = sar_document_from_case(make_source([contract_tx(1), contract_tx(2, amount="7")]))
    draft = json.loads(json.dumps(doc.to_dict()))
    draft["reason"] = "Edited by the investigator."
    edited = SarDocument.from_dict(draft)
    assert edited.reason == "Edited by the investigator."
    assert edited.transactions[1].amount == Decimal("7.00")
    assert edited.submission_date == doc.submission_date
    assert edited.parties == doc.parties
    assert sar_to_xml(edited).replace(b"Edited by the investigator.", b"") == sar_to_xml(
        doc
    ).replace(doc.reason.encode(), b"")
    with pytest.raises(TypeError, match="no field"):
        SarDocument.from_dict({**draft, "bogus": 1})


def test_without_transactions_it_is_an_activity_report(make_source):
    doc = sar_document_from_case(make_source([]))
    root = etree.fromstring(sar_to_xml(doc))
    assert root.find("transaction") is None
    party = root.find("activity/report_parties/report_party")
    assert party.findtext("person/last_name") == "Lima"
    assert party.findtext("significance") == "10"
    assert sar_to_pdf(doc).startswith(b"%PDF")


def test_cash_and_entities(make_source):
    deposit = contract_tx(
        1,
        type="cash_deposit",
        direction="inbound",
        originator={},
        beneficiary={"account_id": "A1", "customer_id": "C1", "name": "Ana Lima", "country": "US"},
    )
    company = contract_tx(
        2, beneficiary={"name": "Northwind Trading Ltd", "country": "HK", "account_id": ""}
    )
    doc = sar_document_from_case(make_source([deposit, company]))
    root = etree.fromstring(sar_to_xml(doc))
    first, second = root.findall("transaction")
    assert first.findtext("t_from/from_funds_code") == "cash"
    assert first.findtext("t_from/from_funds_comment") == "cash"
    assert first.find("t_to_my_client/to_account/account").text == "A1"
    assert second.findtext("t_to/to_entity/name") == "Northwind Trading Ltd"
    assert second.findtext("t_to/to_country") == "HK"


def test_fiu_code_mappings(make_source, entity):
    entity.funds_codes = {"account": "A"}
    entity.transmode_codes = {"transfer": "EFT"}
    entity.indicator_codes = {"structuring": "STR01"}
    root = etree.fromstring(sar_to_xml(sar_document_from_case(make_source())))
    assert root.findtext("transaction/transmode_code") == "EFT"
    assert root.findtext("transaction/t_from_my_client/from_funds_code") == "A"
    assert root.findtext("report_indicators/indicator") == "STR01"


def test_long_narrative_is_refused_with_goamls_limit(make_source):
    doc = sar_document_from_case(make_source(narrative="x" * 4001))
    with pytest.raises(SarValidationError, match="at most 4000"):
        sar_to_json(doc)
