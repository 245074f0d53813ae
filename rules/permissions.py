"""Who may do what on the rules pages: the permissions each page checks, in one place.

The groups receive these permissions in sentinel.roles. Beyond them, the services check the
change itself (nobody approves their own request, nor a version they wrote).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

VIEW_RULES = ("rules.view_rule", "rules.change_rule")
CHANGE_RULES = ("rules.change_rule",)
RUN_BACKTESTS = ("rules.add_backtest",)
VIEW_LISTS = ("rules.view_rulelist", "rules.change_rulelist")
CHANGE_LISTS = ("rules.change_rulelist",)


def require(user, permissions: tuple[str, ...]) -> None:
    """PermissionDenied unless the user holds one of these permissions."""
    if not any(user.has_perm(permission) for permission in permissions):
        raise PermissionDenied("You do not have permission to do this.")
