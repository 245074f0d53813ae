"""Who may read the reports: compliance officers and senior investigators (sentinel.roles)."""

from __future__ import annotations

VIEW = "reports.view_reports"


def can_view(user) -> bool:
    """Active staff holding ``reports.view_reports``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_active and user.is_staff and user.has_perm(VIEW)
