"""Case services: every write to cases goes through one of these functions.

- ``intake``: alerts attach to their subject's active case, or open one.
- ``workflow``: assignment and the status workflow with four-eyes closure.
- ``evidence``: notes, attachments and tags.
- ``reports``: the suspicious-activity report (draft, edit, export).

All are atomic, lock the case row (``select_for_update``) before they read its state, bump its
``version``, write a ``CaseEvent`` per step and announce the change after commit.
"""

from cases.exceptions import CaseConflict, CasePermissionError, CaseStateError

from .evidence import ATTACHMENT_TYPES, case_add_attachment, case_add_note, case_tag
from .intake import FromAlertsResult, cases_from_alerts, cases_open_from_alerts
from .reports import sar_draft, sar_edit, sar_export
from .workflow import (
    BulkAssignResult,
    case_approve_closure,
    case_assign,
    case_bulk_assign,
    case_claim,
    case_claim_next,
    case_propose_closure,
    case_send_back,
    case_set_team,
    case_start,
    closure_needs_approval,
)

__all__ = [
    "ATTACHMENT_TYPES",
    "BulkAssignResult",
    "CaseConflict",
    "CasePermissionError",
    "CaseStateError",
    "case_add_attachment",
    "case_add_note",
    "case_approve_closure",
    "case_assign",
    "case_bulk_assign",
    "case_claim",
    "case_claim_next",
    "case_propose_closure",
    "case_send_back",
    "case_set_team",
    "case_start",
    "case_tag",
    "cases_from_alerts",
    "cases_open_from_alerts",
    "FromAlertsResult",
    "closure_needs_approval",
    "sar_draft",
    "sar_edit",
    "sar_export",
]
