"""Who may do what with cases: the one map from actions to permissions, used by the services,
the pages and the API alike. The groups receive these permissions in sentinel.roles.

| action                         | permission          | groups                                  |
|--------------------------------|---------------------|-----------------------------------------|
| view (queue, page, files, API) | cases.view_case     | all four                                |
| claim, start, note, attach,    | cases.work_case     | Investigator, Senior investigator       |
|   tag, propose closure, SAR    |                     |                                         |
| assign to others, bulk assign  | cases.assign_case   | Senior investigator                     |
| approve closure, send back     | cases.approve_case  | Senior investigator                     |

Beyond the permission, the services check the case itself (only the assignee proposes its
closure; nobody approves their own proposal).
"""

from __future__ import annotations

from enum import StrEnum

from .exceptions import CasePermissionError


class Action(StrEnum):
    VIEW = "view"
    CLAIM = "claim"
    START = "start"
    NOTE = "note"
    ATTACH = "attach"
    TAG = "tag"
    PROPOSE_CLOSURE = "propose_closure"
    REPORT = "report"  # draft, edit and export the case's suspicious-activity report
    ASSIGN = "assign"
    APPROVE_CLOSURE = "approve_closure"
    SEND_BACK = "send_back"


VIEW, WORK, ASSIGN, APPROVE = (
    "cases.view_case",
    "cases.work_case",
    "cases.assign_case",
    "cases.approve_case",
)

REQUIRED: dict[Action, str] = {
    Action.VIEW: VIEW,
    Action.CLAIM: WORK,
    Action.START: WORK,
    Action.NOTE: WORK,
    Action.ATTACH: WORK,
    Action.TAG: WORK,
    Action.PROPOSE_CLOSURE: WORK,
    Action.REPORT: WORK,
    Action.ASSIGN: ASSIGN,
    Action.APPROVE_CLOSURE: APPROVE,
    Action.SEND_BACK: APPROVE,
}

_REFUSALS: dict[Action, str] = {
    Action.VIEW: "You do not have permission to see cases.",
    Action.ASSIGN: "Only a senior investigator can assign cases to others.",
    Action.APPROVE_CLOSURE: "Only a senior investigator can approve a closure.",
    Action.SEND_BACK: "Only a senior investigator can send a closure back.",
}


def can(user, action: Action | str) -> bool:
    """Whether the user may take the action on cases at all (active staff holding the right)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not (user.is_active and user.is_staff):
        return False
    return user.has_perm(REQUIRED[Action(action)])


def require(user, action: Action | str) -> None:
    """Raise CasePermissionError unless ``can(user, action)``."""
    if not can(user, action):
        action = Action(action)
        raise CasePermissionError(
            _REFUSALS.get(action, "You do not have permission to work cases.")
        )


def allowed_actions(user) -> set[str]:
    """The actions the user may take, for templates (buttons shown) and the API."""
    return {str(action) for action in Action if can(user, action)}
