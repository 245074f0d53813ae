"""The suspicious-activity report of a case: drafted from the case, edited, exported.

The draft is a goAML-shaped document (cases.sar) pre-filled from the case's subject, alerts,
transactions and typologies; the investigator writes the narrative and the action taken. Each
export converts the amounts into the partner's reporting currency with the stored exchange
rates (naming each rate, its date and source), validates the XML and JSON against the schemas
in docs/schemas and renders the PDF; the three files are stored with the case (outside the web
root) and their SHA-256 hashes are written into the case's history, so what was filed can be
proven later.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction as db_transaction
from django.utils import timezone

from rules.choices import Typology

from .. import events, selectors
from ..choices import CaseStatus
from ..exceptions import CasePermissionError, CaseStateError
from ..models import Case, SarFile, SuspiciousActivityReport
from ..permissions import Action, require
from ..sar import (
    SarDocument,
    SarValidationError,
    reporting_entity_for,
    sar_document_from_case,
    sar_exports,
    sar_source_from_transactions,
)
from ..sar.build import (
    document_rate_needs,
    indicators_for,
    sar_document_convert,
    stored_exchange_rates,
)
from ..sar.document import clean_text
from .workflow import _locked, _require_active, _save

MAX_REASON = 4000  # goAML's limit on the reason element
MAX_ACTION = 4000


def sar_draft(*, case: Case, actor) -> SuspiciousActivityReport:
    """The case's SAR draft, pre-filled on first use (later calls return the same draft)."""
    require(actor, Action.REPORT)
    with db_transaction.atomic():
        case = _locked(case, None)
        existing = SuspiciousActivityReport.objects.filter(case=case).first()
        if existing is not None:
            return existing
        _require_sar_writable(case, actor)
        document = _prefilled(case, actor)
        now = timezone.now()
        report = SuspiciousActivityReport.objects.create(
            case=case,
            document=document.to_dict(),
            created_by=actor,
            created_at=now,
            updated_by=actor,
            updated_at=now,
        )
        events.sar_drafted(
            case, actor, report_id=report.pk, transactions=len(document.transactions)
        )
        _save(case)
    return report


def _require_sar_writable(case: Case, actor) -> None:
    """Only the assignee writes the report, and not while its closure awaits approval (the
    approver approves the file proposed, which must not change under them)."""
    _require_active(case)
    if case.status == CaseStatus.PENDING_APPROVAL:
        raise CaseStateError(
            f"Case #{case.pk}'s SAR is frozen while its closure awaits approval; ask the "
            "approver to send it back to change it.",
            code="sar_frozen",
        )
    if case.assignee_id != actor.pk:
        raise CasePermissionError(
            f"Only the assignee of case #{case.pk} writes its suspicious-activity report."
        )


def _report_locked(case: Case) -> SuspiciousActivityReport:
    report = SuspiciousActivityReport.objects.select_for_update().filter(case=case).first()
    if report is None:
        raise CaseStateError(
            f"Case #{case.pk} has no suspicious-activity report yet; draft one first.",
            code="no_report",
        )
    return report


def _prefilled(case: Case, actor) -> SarDocument:
    source = sar_source_from_transactions(
        partner=case.partner,
        customer_external_id=case.customer_external_id,
        reference=case.reference,
        transactions=selectors.transactions_of(case).order_by("occurred_at", "id"),
        typologies=selectors.case_typologies(case),
        prepared_by=actor,
        title=f"Suspicious activity of {case.subject_label}",
    )
    return sar_document_from_case(source)


def sar_edit(
    *,
    case: Case,
    actor,
    reason: str,
    action: str,
    indicators: Sequence[str] | None = None,
    expected_version: int | None = None,
) -> SuspiciousActivityReport:
    """Save the investigator's narrative (why the activity is suspicious), the action taken
    and, when given, the indicators (Sentinel typologies; pre-filled from the rules)."""
    require(actor, Action.REPORT)
    reason, action = clean_text(reason or "").strip(), clean_text(action or "").strip()
    errors = {}
    if indicators is not None:
        unknown = sorted(set(indicators) - set(Typology.values))
        if unknown:
            errors["indicators"] = [f"Unknown typologies: {', '.join(unknown)}."]
    if len(reason) > MAX_REASON:
        errors["reason"] = [f"The narrative is at most {MAX_REASON:,} characters (goAML)."]
    if len(action) > MAX_ACTION:
        errors["action"] = [f"The action taken is at most {MAX_ACTION:,} characters."]
    if errors:
        raise ValidationError(errors)
    with db_transaction.atomic():
        case = _locked(case, expected_version)
        _require_sar_writable(case, actor)
        report = _report_locked(case)
        document = SarDocument.from_dict(report.document)
        changed = [
            name
            for name, value in (("reason", reason), ("action", action))
            if getattr(document, name) != value
        ]
        if indicators is not None:
            chosen = indicators_for(list(dict.fromkeys(indicators)), document.reporting_entity)
            if [i.typology for i in chosen] != [i.typology for i in document.indicators]:
                changed.append("indicators")
                document.indicators = chosen
        if not changed:
            return report
        document.reason, document.action = reason, action
        report.document, report.updated_by = document.to_dict(), actor
        report.updated_at = timezone.now()
        report.save(update_fields=["document", "updated_by", "updated_at"])
        events.sar_edited(case, actor, report_id=report.pk, fields=changed)
        _save(case)
    return report


def sar_export(*, case: Case, actor) -> list[SarFile]:
    """Validate and render the report as goAML XML, JSON and PDF; store the files with the
    case and record their hashes. Nothing is stored when any export is refused."""
    require(actor, Action.REPORT)
    with db_transaction.atomic():
        case = _locked(case, None)
        _require_sar_writable(case, actor)
        report = _report_locked(case)
        document = SarDocument.from_dict(report.document)
        # The filer as registered now, and the person exporting it as the reporting person.
        document.reporting_entity = reporting_entity_for(case.partner, prepared_by=actor)
        # Amounts in the partner's reporting currency, with the rates stored now (a rate
        # imported or corrected since the draft applies), each rate named in the export.
        document.currency_code_local = case.partner.reporting_currency
        sar_document_convert(
            document,
            stored_exchange_rates(document_rate_needs(document), document.currency_code_local),
        )
        document.indicators = indicators_for(
            [i.typology or i.code for i in document.indicators], document.reporting_entity
        )
        try:
            exports = sar_exports(document)
        except SarValidationError as error:
            raise ValidationError({"sar": error.problems}, code="invalid_sar") from error
        stored: list[SarFile] = []
        try:
            for export in exports.values():
                sar_file = SarFile(
                    report=report,
                    format=export.format,
                    filename=export.filename,
                    size=len(export.content),
                    sha256=export.sha256,
                    created_by=actor,
                )
                sar_file.file.save(export.filename, ContentFile(export.content), save=False)
                sar_file.save()
                stored.append(sar_file)
            events.sar_exported(
                case,
                actor,
                report_id=report.pk,
                files=[
                    {"format": f.format, "filename": f.filename, "size": f.size, "sha256": f.sha256}
                    for f in stored
                ],
            )
            _save(case)
        except Exception:
            for sar_file in stored:
                sar_file.file.delete(save=False)  # no orphan file when the rows are refused
            raise
    return stored
