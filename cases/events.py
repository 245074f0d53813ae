"""The append-only history of cases: one small writer per kind of step (never updated).

The system's steps on intake (opened, alerts attached, alerts updated) are built unsaved: the
intake writes all of a scoring batch's in one statement. The others are written at once."""

from __future__ import annotations

from collections.abc import Iterable

from .choices import CaseEventType
from .models import Case, CaseEvent


def _record(case: Case, actor, kind: str, **parameters) -> CaseEvent:
    return CaseEvent.objects.create(case=case, actor=actor, type=kind, parameters=parameters)


def _unsaved(case: Case, actor, kind: str, **parameters) -> CaseEvent:
    return CaseEvent(case=case, actor=actor, type=kind, parameters=parameters)


def case_opened(case: Case, *, alert_ids: Iterable[int], linked: list[str] = ()) -> CaseEvent:
    """``linked``: the other subjects whose alerts (about the same ring) came with them."""
    return _unsaved(
        case,
        None,
        CaseEventType.OPENED,
        subject=case.subject_label,
        alert_ids=sorted(alert_ids),
        severity=case.severity,
        due_at=case.due_at.isoformat(),
        **({"linked_subjects": list(linked)} if linked else {}),
    )


def alerts_attached(case: Case, *, alert_ids: Iterable[int], linked: list[str] = ()) -> CaseEvent:
    return _unsaved(
        case,
        None,
        CaseEventType.ALERTS_ATTACHED,
        alert_ids=sorted(alert_ids),
        severity=case.severity,
        priority=case.priority,
        due_at=case.due_at.isoformat(),
        **({"linked_subjects": list(linked)} if linked else {}),
    )


def alerts_updated(case: Case, *, alert_ids: Iterable[int]) -> CaseEvent:
    return _unsaved(
        case,
        None,
        CaseEventType.ALERT_UPDATED,
        alert_ids=sorted(alert_ids),
        severity=case.severity,
        priority=case.priority,
    )


def assigned(case: Case, actor, *, before, after) -> CaseEvent:
    return _record(
        case,
        actor,
        CaseEventType.ASSIGNED,
        **{
            "from": before.username if before else None,
            "to": after.username if after else None,
        },
    )


def team_changed(case: Case, actor, *, before, after) -> CaseEvent:
    return _record(
        case,
        actor,
        CaseEventType.TEAM_CHANGED,
        **{"from": before.slug if before else None, "to": after.slug if after else None},
    )


def status_changed(case: Case, actor, *, before: str, after: str) -> CaseEvent:
    return _record(case, actor, CaseEventType.STATUS_CHANGED, **{"from": before, "to": after})


def note_added(case: Case, actor, *, note_id: int) -> CaseEvent:
    return _record(case, actor, CaseEventType.NOTE_ADDED, note_id=note_id)


def attachment_added(case: Case, actor, *, attachment) -> CaseEvent:
    return _record(
        case,
        actor,
        CaseEventType.ATTACHMENT_ADDED,
        attachment_id=attachment.pk,
        filename=attachment.filename,
        size=attachment.size,
        sha256=attachment.sha256,
    )


def tagged(case: Case, actor, *, added: list[str], removed: list[str]) -> CaseEvent:
    return _record(case, actor, CaseEventType.TAGGED, added=added, removed=removed)


def closure_proposed(
    case: Case, actor, *, disposition: str, reason: str, sar_sha256: str = ""
) -> CaseEvent:
    extra = {"sar_sha256": sar_sha256} if sar_sha256 else {}
    return _record(
        case,
        actor,
        CaseEventType.CLOSURE_PROPOSED,
        disposition=disposition,
        reason=reason,
        **extra,
    )


def closure_approved(
    case: Case, actor, *, proposer, comment: str, sar_sha256: str = ""
) -> CaseEvent:
    """With a SAR, the hash of the export the approver approved goes into the history."""
    extra = {"sar_sha256": sar_sha256} if sar_sha256 else {}
    return _record(
        case,
        actor,
        CaseEventType.CLOSURE_APPROVED,
        disposition=case.disposition,
        proposed_by=proposer.username,
        comment=comment,
        **extra,
    )


def sent_back(case: Case, actor, *, disposition: str, comment: str) -> CaseEvent:
    return _record(case, actor, CaseEventType.SENT_BACK, disposition=disposition, comment=comment)


def closed(case: Case, actor, *, reason: str) -> CaseEvent:
    return _record(case, actor, CaseEventType.CLOSED, disposition=case.disposition, reason=reason)


def sar_drafted(case: Case, actor, *, report_id: int, transactions: int) -> CaseEvent:
    return _record(
        case, actor, CaseEventType.SAR_DRAFTED, report_id=report_id, transactions=transactions
    )


def sar_edited(case: Case, actor, *, report_id: int, fields: list[str]) -> CaseEvent:
    return _record(case, actor, CaseEventType.SAR_EDITED, report_id=report_id, fields=fields)


def sar_exported(case: Case, actor, *, report_id: int, files: list[dict]) -> CaseEvent:
    """The hash of every exported file goes into the history: what was filed can be proven."""
    return _record(case, actor, CaseEventType.SAR_EXPORTED, report_id=report_id, files=files)
