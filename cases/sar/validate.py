"""Check SAR exports against the schemas published under ``docs/schemas/``.

``validate_document`` states the rules a filing needs in plain words (a reporting-entity id, a
narrative, local amounts ...) before the schemas are asked; ``validate_xml`` and ``validate_json``
check the bytes of an export. Each raises :class:`SarValidationError` listing every problem.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from transactions.money import CURRENCIES
from transactions.selectors import rate_date

if TYPE_CHECKING:
    from .document import SarDocument

XSD_NAME = "sentinel-goaml-sar.xsd"
JSON_SCHEMA_NAME = "sentinel-goaml-sar.schema.json"
MAX_PROBLEMS = 50
REASON_MAX = 4000  # goAML's limit for reason and action


class SarValidationError(ValueError):
    """The report is not fit to export; ``problems`` says why, one line each."""

    def __init__(self, what: str, problems: list[str]):
        self.what = what
        self.problems = problems
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"The {what} is not valid ({len(problems)} problem(s)):\n{listed}")


def schema_dir() -> Path:
    """``docs/schemas`` of the repository (settings.BASE_DIR; the package is installed editable,
    so the published schemas are the ones checked)."""
    try:
        from django.conf import settings

        base = Path(settings.BASE_DIR)
    except Exception:  # noqa: BLE001  settings not configured: use the checkout this file is in
        base = Path(__file__).resolve().parents[2]
    return base / "docs" / "schemas"


@cache
def xml_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(schema_dir() / XSD_NAME), parser))


@cache
def json_schema() -> dict:
    return json.loads((schema_dir() / JSON_SCHEMA_NAME).read_text(encoding="utf-8"))


def validate_xml(data: bytes) -> None:
    """Raise SarValidationError unless ``data`` is XML valid against the published XSD."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        document = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise SarValidationError("SAR XML", [f"not well-formed XML: {exc}"]) from exc
    schema = xml_schema()
    if schema.validate(document):
        return
    problems = [
        f"line {error.line} ({error.path}): {error.message}"
        for error in list(schema.error_log)[:MAX_PROBLEMS]
    ]
    raise SarValidationError("SAR XML", problems)


def validate_json(data: bytes) -> None:
    """Raise SarValidationError unless ``data`` is JSON valid against the published schema."""
    from jsonschema import Draft202012Validator, FormatChecker

    try:
        instance = json.loads(data)
    except ValueError as exc:
        raise SarValidationError("SAR JSON", [f"not valid JSON: {exc}"]) from exc
    validator = Draft202012Validator(json_schema(), format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    problems = []
    for error in errors[:MAX_PROBLEMS]:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        problems.append(f"{where}: {error.message}")
    raise SarValidationError("SAR JSON", problems)


def document_problems(doc: SarDocument) -> list[str]:
    """What a filing needs that the document lacks, in the investigator's words."""

    from .document import REPORT_CODES, SUBMISSION_CODES

    problems = []
    entity = doc.reporting_entity
    if entity.rentity_id is None or entity.rentity_id < 1:
        problems.append(
            "rentity_id: the reporting entity's goAML id is not set "
            "(settings.SENTINEL_SAR_REPORTING_ENTITIES)"
        )
    if not entity.reporting_person.last_name.strip():
        problems.append("reporting_person: the person filing the report has no last name")
    if doc.report_code not in REPORT_CODES:
        problems.append(f"report_code: {doc.report_code!r} is not one of {', '.join(REPORT_CODES)}")
    if doc.submission_code not in SUBMISSION_CODES:
        problems.append(f"submission_code: {doc.submission_code!r} is not E or M")
    if doc.currency_code_local not in CURRENCIES:
        problems.append(f"currency_code_local: {doc.currency_code_local!r} is not ISO 4217")
    if not doc.reason.strip():
        problems.append("reason: the narrative is empty; say why the activity is suspicious")
    elif len(doc.reason) > REASON_MAX:
        problems.append(
            f"reason: the narrative has {len(doc.reason)} characters; goAML takes at most "
            f"{REASON_MAX}: shorten it or move detail to attachments"
        )
    if len(doc.action) > REASON_MAX:
        problems.append(f"action: at most {REASON_MAX} characters")
    if not doc.indicators:
        problems.append("report_indicators: give at least one indicator (typology)")
    if doc.submission_date.tzinfo is None:
        problems.append("submission_date: needs a time zone")
    if not doc.transactions and not doc.parties:
        problems.append("a report needs transactions or, for an activity report, parties")
    for index, tx in enumerate(doc.transactions):
        where = f"transaction {index + 1} ({tx.transactionnumber})"
        if tx.amount_local is None:
            day = rate_date(tx.date_transaction).isoformat()
            problems.append(
                f"{where}: amount_local is unknown: no stored {tx.currency}→"
                f"{doc.currency_code_local} exchange rate for {day} or the days just before; "
                "import the ECB rates (manage.py import_rates) or enter the rate in the admin "
                "(Exchange rates)"
            )
        if tx.date_transaction.tzinfo is None:
            problems.append(f"{where}: date_transaction needs a time zone")
        if tx.currency not in CURRENCIES:
            problems.append(f"{where}: currency {tx.currency!r} is not ISO 4217")
    return problems


def validate_document(doc: SarDocument) -> None:
    problems = document_problems(doc)
    if problems:
        raise SarValidationError("SAR", problems)
