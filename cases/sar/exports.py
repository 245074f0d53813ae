"""Write a SarDocument as goAML-shaped XML and JSON, and as a PDF filing document.

XML and JSON come from one ordered tree (:func:`report_tree`) in goAML element order, so the two
always say the same thing. Every export is checked before it is returned (the document's own
rules, then the XML Schema or JSON Schema published under ``docs/schemas/``): an export that
would not validate raises :class:`~cases.sar.validate.SarValidationError` instead.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree

from .document import (
    SCHEMA_VERSION,
    Account,
    Entity,
    Party,
    Person,
    ReportTransaction,
    SarDocument,
    TransactionSide,
    clean_text,
    money_text,
)
from .validate import validate_document, validate_json, validate_xml

JSON_FORMAT = "sentinel-goaml-sar"
MEDIA_TYPES = {"xml": "application/xml", "json": "application/json", "pdf": "application/pdf"}

Tree = dict[str, Any]  # element name → text, a nested Tree, or a list of either (repeated)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SarExport:
    """One validated export, ready to store with the case; ``sha256`` goes into its history."""

    format: str  # xml | json | pdf
    content: bytes
    sha256: str
    media_type: str
    filename: str


def sar_exports(doc: SarDocument) -> dict[str, SarExport]:
    """All three exports of a document, each validated, with their hashes."""
    writers = {"xml": sar_to_xml, "json": sar_to_json, "pdf": sar_to_pdf}
    stem = _filename_stem(doc)
    result = {}
    for kind, writer in writers.items():
        content = writer(doc)
        result[kind] = SarExport(
            format=kind,
            content=content,
            sha256=sha256(content),
            media_type=MEDIA_TYPES[kind],
            filename=f"{stem}.{kind}",
        )
    return result


def _filename_stem(doc: SarDocument) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in doc.entity_reference)
    return f"sar-{safe.strip('-') or 'report'}-{doc.submission_date:%Y%m%d}"


# --- The goAML tree ----------------------------------------------------------------------------


def _iso(value) -> str:
    """goAML dateTime: ISO 8601, seconds precision, with the UTC offset."""
    return value.replace(microsecond=0).isoformat()


def _put(tree: Tree, name: str, value: Any) -> None:
    """Set an element unless it is empty (goAML leaves optional elements out)."""
    if value is None or value == "" or value == [] or value == {}:
        return
    tree[name] = clean_text(value) if isinstance(value, str) else value


def _person(person: Person) -> Tree:
    tree: Tree = {}
    for name in (
        "title",
        "first_name",
        "last_name",
        "id_number",
        "nationality1",
        "residence",
        "email",
        "occupation",
        "comments",
    ):
        _put(tree, name, getattr(person, name))
    return tree


def _entity(entity: Entity) -> Tree:
    tree: Tree = {}
    for name in ("name", "incorporation_number", "incorporation_country_code", "comments"):
        _put(tree, name, getattr(entity, name))
    return tree


def _account(account: Account, doc: SarDocument) -> Tree:
    tree: Tree = {}
    _put(tree, "institution_name", account.institution_name)
    if account.swift:
        _put(tree, "swift", account.swift)
    else:
        _put(tree, "institution_code", account.institution_code)
    _put(tree, "account", account.account)
    _put(tree, "currency_code", account.currency_code)
    _put(tree, "account_name", account.account_name)
    _put(tree, "client_number", account.client_number)
    holder = doc.party(account.holder_reference) if account.holder_reference else None
    if holder is not None and holder.kind == "entity" and holder.entity:
        tree["t_entity"] = _entity(holder.entity)
    elif holder is not None and holder.person and (holder.person.last_name):
        tree["signatory"] = [{"is_primary": "true", "t_person": _person(holder.person)}]
    _put(tree, "comments", account.comments)
    return tree


def _side(side: TransactionSide, prefix: str, tx: ReportTransaction, doc: SarDocument) -> Tree:
    tree: Tree = {}
    _put(tree, f"{prefix}_funds_code", side.funds_code)
    _put(tree, f"{prefix}_funds_comment", side.funds_comment)
    foreign = tx.foreign_currency
    if foreign is not None:
        tree[f"{prefix}_foreign_currency"] = {
            "foreign_currency_code": foreign.foreign_currency_code,
            "foreign_amount": money_text(foreign.foreign_amount, foreign.foreign_currency_code),
            "foreign_exchange_rate": _rate(foreign.foreign_exchange_rate),
        }
    if side.account is not None:
        tree[f"{prefix}_account"] = _account(side.account, doc)
    elif side.person is not None:
        tree[f"{prefix}_person"] = _person(side.person)
    elif side.entity is not None:
        tree[f"{prefix}_entity"] = _entity(side.entity)
    _put(tree, f"{prefix}_country", side.country)
    return tree


def _rate(rate: Decimal) -> str:
    text = format(rate.normalize(), "f")
    return text if "." in text else f"{text}.0"


def _transaction(tx: ReportTransaction, doc: SarDocument) -> Tree:
    tree: Tree = {}
    _put(tree, "transactionnumber", tx.transactionnumber)
    _put(tree, "internal_ref_number", tx.internal_ref_number)
    _put(tree, "transaction_location", tx.transaction_location)
    _put(tree, "transaction_description", tx.transaction_description)
    tree["date_transaction"] = _iso(tx.date_transaction)
    _put(tree, "transmode_code", tx.transmode_code)
    if tx.amount_local is not None:
        tree["amount_local"] = money_text(tx.amount_local, doc.currency_code_local)
    from_key = "t_from_my_client" if tx.t_from.my_client else "t_from"
    to_key = "t_to_my_client" if tx.t_to.my_client else "t_to"
    tree[from_key] = _side(tx.t_from, "from", tx, doc)
    tree[to_key] = _side(tx.t_to, "to", tx, doc)
    # goAML's t_foreign_currency holds the rate alone: its date and source go in the comments.
    comments = [tx.comments, tx.exchange_rate_note(doc.currency_code_local)]
    _put(tree, "comments", "; ".join(part for part in comments if part))
    return tree


def _report_party(party: Party, doc: SarDocument) -> Tree:
    tree: Tree = {}
    if party.kind == "entity" and party.entity:
        tree["entity"] = _entity(party.entity)
    elif party.person:
        tree["person"] = _person(party.person)
    tree["significance"] = "10" if party.role == "subject" else "5"
    _put(tree, "reason", "Subject of the report" if party.role == "subject" else "Counterparty")
    _put(tree, "comments", party.comments)
    return tree


def report_tree(doc: SarDocument) -> Tree:
    """The report as an ordered tree in goAML element order (see docs/sar.md)."""
    entity = doc.reporting_entity
    tree: Tree = {}
    if entity.rentity_id is not None:
        tree["rentity_id"] = str(entity.rentity_id)
    _put(tree, "rentity_branch", entity.rentity_branch)
    tree["submission_code"] = doc.submission_code
    tree["report_code"] = doc.report_code
    _put(tree, "entity_reference", doc.entity_reference)
    _put(tree, "fiu_ref_number", doc.fiu_ref_number)
    tree["submission_date"] = _iso(doc.submission_date)
    tree["currency_code_local"] = doc.currency_code_local
    tree["reporting_person"] = _person(entity.reporting_person)
    _put(tree, "reason", doc.reason)
    _put(tree, "action", doc.action)
    if doc.transactions:
        tree["transaction"] = [_transaction(tx, doc) for tx in doc.transactions]
    else:
        parties = [_report_party(party, doc) for party in doc.parties]
        tree["activity"] = {"report_parties": {"report_party": parties}}
    tree["report_indicators"] = {"indicator": [clean_text(i.code) for i in doc.indicators]}
    return tree


# --- XML ---------------------------------------------------------------------------------------


def _append(parent: etree._Element, name: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _append(parent, name, item)
        return
    element = etree.SubElement(parent, name)
    if isinstance(value, dict):
        for child, child_value in value.items():
            _append(element, child, child_value)
    else:
        element.text = str(value)  # lxml escapes &, <, > on serialisation


def sar_to_xml(doc: SarDocument) -> bytes:
    """The report as goAML-shaped XML (UTF-8), validated against
    ``docs/schemas/sentinel-goaml-sar.xsd``."""
    validate_document(doc)
    root = etree.Element("report")
    for name, value in report_tree(doc).items():
        _append(root, name, value)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate_xml(data)
    return data


# --- JSON --------------------------------------------------------------------------------------


def sar_json_tree(doc: SarDocument) -> dict[str, Any]:
    """The JSON export before serialisation: the goAML report plus a Sentinel summary."""
    period = doc.period
    return {
        "format": JSON_FORMAT,
        "version": SCHEMA_VERSION,
        "report": report_tree(doc),
        "involved_parties": [
            {
                "reference": clean_text(party.reference),
                "role": party.role,
                "kind": party.kind,
                "name": clean_text(party.name),
                "is_my_client": party.is_my_client,
                "country": party.country,
                "accounts": [clean_text(number) for number in party.account_numbers],
                "transaction_count": party.transaction_count,
            }
            for party in doc.parties
        ],
        "summary": {
            "period_from": _iso(period[0]) if period else None,
            "period_to": _iso(period[1]) if period else None,
            "transaction_count": len(doc.transactions),
            "totals": [
                {"currency": currency, "count": count, "amount": money_text(total, currency)}
                for currency, (count, total) in doc.totals_by_currency().items()
            ],
            "total_local": (
                money_text(doc.total_local(), doc.currency_code_local)
                if doc.total_local() is not None
                else None
            ),
            "exchange_rates": [
                {
                    "currency": used["currency"],
                    "currency_local": doc.currency_code_local,
                    "rate": _rate(used["rate"]),
                    "date": used["date"].isoformat() if used["date"] else None,
                    "source": used["source"],
                    "count": used["count"],
                }
                for used in doc.exchange_rates_used()
            ],
            "indicators": [
                {"code": clean_text(i.code), "typology": i.typology, "label": clean_text(i.label)}
                for i in doc.indicators
            ],
        },
    }


def sar_to_json(doc: SarDocument) -> bytes:
    """The report as JSON (UTF-8), validated against
    ``docs/schemas/sentinel-goaml-sar.schema.json``; amounts are decimal strings."""
    validate_document(doc)
    data = json.dumps(sar_json_tree(doc), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    validate_json(data)
    return data


# --- PDF ---------------------------------------------------------------------------------------


def sar_to_pdf(doc: SarDocument) -> bytes:
    """The filing document as PDF. The document is validated first (its own rules and the JSON
    Schema), so a PDF is only made of a report that would also export as XML and JSON."""
    validate_document(doc)
    validate_json(json.dumps(sar_json_tree(doc)).encode("utf-8"))
    from .pdf import render_pdf

    return render_pdf(doc)
