"""Assignment and the status workflow: open -> investigating -> (pending_approval ->) closed.

Four eyes: closing as ``sar_filed``, or closing a critical case, waits in pending_approval until
a senior investigator other than the proposer approves it (or sends it back with a comment).
A SAR closure pins the export it was proposed with; the report is frozen while it waits, and
whoever drafted, edited or exported the report cannot approve it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.utils import timezone

from rules.choices import Severity
from transactions.choices import LabelOutcome, LabelSource, LabelWeight
from transactions.services import transaction_labels_record
from transactions.signals import flagged_accounts_announce

from .. import events, live, selectors
from ..choices import CaseEventType, CaseStatus, Disposition, SarFormat
from ..exceptions import CaseConflict, CasePermissionError, CaseStateError
from ..models import MAX_NOTE_LENGTH, Case, CaseEvent, SarFile, Team
from ..permissions import Action, can, require
from .intake import alerts_take_over

# What the rows' full_clean may skip: foreign keys the services set themselves.
_FK_FIELDS = ["partner", "assignee", "team", "proposed_by"]


def _locked(case: Case | int, expected_version: int | None) -> Case:
    pk = case.pk if isinstance(case, Case) else case
    locked = Case.objects.select_for_update().get(pk=pk)
    if expected_version is not None and locked.version != expected_version:
        raise CaseConflict(
            f"Case #{pk} changed since you loaded it (version {expected_version}, now "
            f"{locked.version}); reload it and try again."
        )
    return locked


def _require_active(case: Case) -> None:
    if case.is_closed:
        raise CaseStateError(
            f"Case #{case.pk} is closed ({case.get_disposition_display()}); it cannot change.",
            code="closed",
        )


def _save(case: Case, *fields: str) -> Case:
    case.version += 1
    case.full_clean(exclude=_FK_FIELDS, validate_constraints=False)
    case.save(update_fields=[*fields, "version", "updated_at"])
    live.cases_announce(cases=[case])
    return case


def _set_status(case: Case, actor, status: str) -> None:
    before, case.status = case.status, status
    events.status_changed(case, actor, before=before, after=status)


def _name(user) -> str:
    return user.get_full_name() or user.username


# --- Assignment --------------------------------------------------------------------------------


def case_assign(*, case: Case, assignee, actor, expected_version: int | None = None) -> Case:
    """Give the case to ``assignee`` (None: unassign). Assigning to yourself is claiming."""
    require(actor, Action.CLAIM if assignee == actor else Action.ASSIGN)
    _check_assignee(assignee)
    with db_transaction.atomic():
        case = _locked(case, expected_version)
        _assign(case, assignee, actor)
    return case


def _check_assignee(assignee) -> None:
    if assignee is not None and not can(assignee, Action.CLAIM):
        raise ValidationError({"assignee": [f"{assignee.username} is not allowed to work cases."]})


def _assign(case: Case, assignee, actor) -> None:
    """Assign a locked case (shared by single and bulk assignment)."""
    _require_active(case)
    if case.status == CaseStatus.PENDING_APPROVAL:
        raise CaseStateError(
            f"Case #{case.pk} awaits approval of its closure; decide that first.",
            code="pending_approval",
        )
    if case.assignee_id == (assignee.pk if assignee else None):
        return
    before = case.assignee
    case.assignee = assignee
    events.assigned(case, actor, before=before, after=assignee)
    if assignee is None and case.status != CaseStatus.OPEN:
        _set_status(case, actor, CaseStatus.OPEN)
    _save(case, "assignee", "status")


def case_set_team(*, case: Case, team: Team | None, actor, expected_version: int | None = None):
    """Route the case to a team (None: no team); senior investigators, like assignment."""
    require(actor, Action.ASSIGN)
    with db_transaction.atomic():
        case = _locked(case, expected_version)
        _require_active(case)
        if case.team_id != (team.pk if team else None):
            before, case.team = case.team, team
            events.team_changed(case, actor, before=before, after=team)
            _save(case, "team")
    return case


def case_claim(*, case: Case, actor, expected_version: int | None = None) -> Case:
    """Take an unassigned (or already your own) case and start investigating it."""
    require(actor, Action.CLAIM)
    with db_transaction.atomic():
        case = _locked(case, expected_version)
        _claim(case, actor)
    return case


def _claim(case: Case, actor) -> None:
    _require_active(case)
    if case.assignee_id not in (None, actor.pk):
        raise CaseStateError(
            f"Case #{case.pk} is already assigned to {_name(case.assignee)}.",
            code="already_assigned",
        )
    if case.status == CaseStatus.PENDING_APPROVAL:
        raise CaseStateError(
            f"Case #{case.pk} awaits approval of its closure.", code="pending_approval"
        )
    if case.assignee_id is None:
        case.assignee = actor
        events.assigned(case, actor, before=None, after=actor)
    if case.status == CaseStatus.OPEN:
        _set_status(case, actor, CaseStatus.INVESTIGATING)
        alerts_take_over(case=case, actor=actor)
    _save(case, "assignee", "status")


def case_claim_next(*, actor, team_id: int | None = None) -> Case | None:
    """Claim the highest-priority unassigned open case (earliest due first among equals).

    Rows another investigator is claiming right now are skipped, not waited for, so two people
    pressing "claim next" together get two different cases.
    """
    require(actor, Action.CLAIM)
    with db_transaction.atomic():
        candidates = Case.objects.filter(status=CaseStatus.OPEN, assignee__isnull=True)
        if team_id is not None:
            candidates = candidates.filter(team_id=team_id)
        case = (
            candidates.order_by("-priority", "due_at", "pk")
            .select_for_update(skip_locked=True)
            .first()
        )
        if case is not None:
            _claim(case, actor)
    return case


@dataclass
class BulkAssignResult:
    assigned: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def case_bulk_assign(*, case_ids: Iterable[int], assignee, actor) -> BulkAssignResult:
    """Assign many cases at once; closed or pending ones are skipped with the reason."""
    require(actor, Action.CLAIM if assignee == actor else Action.ASSIGN)
    _check_assignee(assignee)
    result = BulkAssignResult()
    ids = sorted(set(case_ids))
    with db_transaction.atomic():
        locked = Case.objects.filter(pk__in=ids).select_for_update().order_by("pk")
        cases = {case.pk: case for case in locked}
        for pk in ids:
            if pk not in cases:
                result.skipped[pk] = f"Case #{pk} does not exist."
                continue
            try:
                _assign(cases[pk], assignee, actor)
            except CaseStateError as error:
                result.skipped[pk] = error.message
            else:
                result.assigned.append(pk)
    return result


# --- Status ------------------------------------------------------------------------------------


def case_start(*, case: Case, actor, expected_version: int | None = None) -> Case:
    """The assignee starts investigating an open case assigned to them."""
    require(actor, Action.START)
    with db_transaction.atomic():
        case = _locked(case, expected_version)
        _require_active(case)
        if case.status != CaseStatus.OPEN:
            raise CaseStateError(f"Case #{case.pk} is already {case.get_status_display().lower()}.")
        if case.assignee_id is None:
            raise CaseStateError(
                f"Case #{case.pk} is unassigned: claim it to start.", code="unassigned"
            )
        if case.assignee_id != actor.pk:
            raise CasePermissionError(
                f"Case #{case.pk} is assigned to {_name(case.assignee)}, not to you."
            )
        _set_status(case, actor, CaseStatus.INVESTIGATING)
        alerts_take_over(case=case, actor=actor)
        _save(case, "status")
    return case


def closure_needs_approval(case: Case, disposition: str) -> bool:
    """Four eyes for a suspicious-activity report and for any critical case."""
    return disposition == Disposition.SAR_FILED or case.severity == Severity.CRITICAL


def case_propose_closure(
    *, case: Case, actor, disposition: str, reason: str, expected_version: int | None = None
) -> Case:
    """The assignee closes the case, or proposes to when the closure needs approval."""
    require(actor, Action.PROPOSE_CLOSURE)
    reason = _text(reason, "reason", "Say why the case can be closed.")
    if disposition not in Disposition.values:
        raise ValidationError({"disposition": [f"{disposition!r} is not a disposition."]})
    with db_transaction.atomic():
        case = _locked(case, expected_version)
        _require_active(case)
        if case.status == CaseStatus.PENDING_APPROVAL:
            raise CaseStateError(
                f"Case #{case.pk} already awaits approval of its closure.",
                code="pending_approval",
            )
        if case.assignee_id is None:
            raise CaseStateError(
                f"Case #{case.pk} is unassigned: an unassigned case cannot be closed.",
                code="unassigned",
            )
        if case.assignee_id != actor.pk:
            raise CasePermissionError(
                f"Only the assignee ({_name(case.assignee)}) can close case #{case.pk}."
            )
        if case.status == CaseStatus.OPEN:
            raise CaseStateError(
                f"Start investigating case #{case.pk} before closing it.", code="not_started"
            )
        if disposition == Disposition.SAR_FILED and not _sar_exported(case):
            raise CaseStateError(
                f"Export case #{case.pk}'s suspicious-activity report before closing it as "
                "SAR filed.",
                code="no_sar",
            )
        pinned = _latest_sar_xml(case) if disposition == Disposition.SAR_FILED else ""
        events.closure_proposed(
            case, actor, disposition=disposition, reason=reason, sar_sha256=pinned
        )
        case.closure_reason = reason
        if closure_needs_approval(case, disposition):
            case.proposed_by, case.proposed_disposition = actor, disposition
            case.proposed_sar_sha256 = pinned
            _set_status(case, actor, CaseStatus.PENDING_APPROVAL)
            _save(
                case,
                "status",
                "proposed_by",
                "proposed_disposition",
                "proposed_sar_sha256",
                "closure_reason",
            )
        else:
            _close(case, actor, disposition)
    return case


def _sar_exported(case: Case) -> bool:
    return SarFile.objects.filter(report__case=case).exists()


def _latest_sar_xml(case: Case) -> str:
    """The SHA-256 of the case's latest goAML XML export ("" when none): the file filed."""
    latest = (
        SarFile.objects.filter(report__case=case, format=SarFormat.XML)
        .order_by("-created_at", "-pk")
        .values_list("sha256", flat=True)
        .first()
    )
    return latest or ""


def _require_sar_approvable(case: Case, actor, reviewed_sha256: str | None) -> str:
    """Four eyes on a SAR: the approver approves the very export that was proposed, and
    had no hand in it. Returns the approved export's hash."""
    pinned = case.proposed_sar_sha256
    if _latest_sar_xml(case) != pinned:
        raise CaseStateError(
            f"Case #{case.pk}'s SAR was exported again after the closure was proposed; "
            "send the closure back.",
            code="sar_changed",
        )
    if reviewed_sha256 is not None and reviewed_sha256 != pinned:
        raise CaseStateError(
            f"You reviewed the SAR export {reviewed_sha256[:12]}…, but the closure was proposed "
            f"with {pinned[:12]}…; reload the case and review the proposed file.",
            code="sar_changed",
        )
    authored = CaseEvent.objects.filter(
        case=case,
        actor=actor,
        type__in=[
            CaseEventType.SAR_DRAFTED,
            CaseEventType.SAR_EDITED,
            CaseEventType.SAR_EXPORTED,
        ],
    )
    if authored.exists():
        raise CasePermissionError(
            "You drafted, edited or exported this SAR: another senior investigator must approve it."
        )
    return pinned


# What a closed case says about its transactions (docs/detection.md § Labels).
DISPOSITION_LABELS = {
    Disposition.SAR_FILED: (LabelOutcome.SUSPICIOUS, LabelWeight.CASE_SAR_FILED),
    Disposition.CUSTOMER_EXITED: (LabelOutcome.SUSPICIOUS, LabelWeight.CASE_CUSTOMER_EXITED),
    Disposition.FALSE_POSITIVE: (LabelOutcome.LEGITIMATE, LabelWeight.CASE_CLEARED),
    Disposition.NO_ACTION: (LabelOutcome.LEGITIMATE, LabelWeight.CASE_CLEARED),
}


def _close(case: Case, actor, disposition: str) -> None:
    case.disposition, case.closed_at = disposition, timezone.now()
    case.proposed_by, case.proposed_disposition, case.proposed_sar_sha256 = None, "", ""
    _set_status(case, actor, CaseStatus.CLOSED)
    events.closed(case, actor, reason=case.closure_reason)
    _save(
        case,
        "status",
        "disposition",
        "closed_at",
        "proposed_by",
        "proposed_disposition",
        "proposed_sar_sha256",
        "closure_reason",
    )
    outcome, weight = DISPOSITION_LABELS[disposition]
    transaction_labels_record(
        transaction_ids=selectors.transactions_of(case).values_list("pk", flat=True),
        source=LabelSource.CASE_DISPOSITION,
        outcome=outcome,
        weight=weight,
        reason=case.closure_reason,
        actor=actor,
        reference=f"case #{case.pk}",
        occurred_at=case.closed_at,
    )
    if disposition == Disposition.SAR_FILED:  # its accounts are now known bad (proximity)
        flagged_accounts_announce(
            partner_id=case.partner_id,
            accounts=case.alert_links.values_list("alert__account_external_id", flat=True),
        )


def _pending(case: Case, actor, verb: str) -> None:
    _require_active(case)
    if case.status != CaseStatus.PENDING_APPROVAL:
        raise CaseStateError(
            f"Case #{case.pk} has no closure awaiting approval to {verb}.",
            code="not_pending",
        )
    if case.proposed_by_id == actor.pk:
        raise CasePermissionError(
            f"You proposed this closure: another senior investigator must {verb} it."
        )


def case_approve_closure(
    *,
    case: Case,
    actor,
    comment: str = "",
    sar_sha256: str | None = None,
    expected_version: int | None = None,
) -> Case:
    """A senior investigator other than the proposer closes the case as proposed. For a SAR,
    ``sar_sha256`` is the export the approver reviewed (the page sends it); it must be the
    one proposed, and the approver must not have drafted, edited or exported the report."""
    require(actor, Action.APPROVE_CLOSURE)
    comment = (comment or "").strip()[:MAX_NOTE_LENGTH]
    with db_transaction.atomic():
        case = _locked(case, expected_version)
        _pending(case, actor, "approve")
        proposer, disposition = case.proposed_by, case.proposed_disposition
        approved_sar = ""
        if disposition == Disposition.SAR_FILED:
            approved_sar = _require_sar_approvable(case, actor, sar_sha256)
        case.disposition = disposition
        events.closure_approved(
            case, actor, proposer=proposer, comment=comment, sar_sha256=approved_sar
        )
        _close(case, actor, disposition)
    return case


def case_send_back(*, case: Case, actor, comment: str, expected_version: int | None = None) -> Case:
    """A senior investigator returns a proposed closure to the assignee, saying why."""
    require(actor, Action.SEND_BACK)
    comment = _text(comment, "comment", "Say why the closure is sent back.")
    with db_transaction.atomic():
        case = _locked(case, expected_version)
        _pending(case, actor, "send back")
        events.sent_back(case, actor, disposition=case.proposed_disposition, comment=comment)
        case.proposed_by, case.proposed_disposition, case.closure_reason = None, "", ""
        case.proposed_sar_sha256 = ""
        _set_status(case, actor, CaseStatus.INVESTIGATING)
        _save(
            case,
            "status",
            "proposed_by",
            "proposed_disposition",
            "proposed_sar_sha256",
            "closure_reason",
        )
    return case


def _text(value: str, name: str, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({name: [missing]})
    if len(value) > MAX_NOTE_LENGTH:
        raise ValidationError({name: [f"At most {MAX_NOTE_LENGTH} characters."]})
    return value
