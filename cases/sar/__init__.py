"""Suspicious-activity reports: a goAML-shaped document pre-filled from a case, exported as XML,
JSON and PDF, each validated against the schemas under docs/schemas/ (see docs/sar.md)."""

from .build import (
    SarSource,
    SarSubject,
    reporting_entity_for,
    sar_document_from_case,
    sar_document_from_source,
    sar_source_from_transactions,
)
from .document import SarDocument
from .exports import SarExport, sar_exports, sar_to_json, sar_to_pdf, sar_to_xml, sha256
from .validate import SarValidationError, document_problems, validate_json, validate_xml

__all__ = [
    "SarDocument",
    "SarExport",
    "SarSource",
    "SarSubject",
    "SarValidationError",
    "document_problems",
    "reporting_entity_for",
    "sar_document_from_case",
    "sar_document_from_source",
    "sar_exports",
    "sar_source_from_transactions",
    "sar_to_json",
    "sar_to_pdf",
    "sar_to_xml",
    "sha256",
    "validate_json",
    "validate_xml",
]
