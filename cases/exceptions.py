"""Domain errors of cases. Each carries a sentence meant for the person who acted.

The API and the pages map them the same way: ``CaseStateError`` 409 (the case's state does not
allow it, or it changed meanwhile), ``CasePermissionError`` 403, Django's ``ValidationError``
400. Nothing has changed when one is raised: services check before they write.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class CaseStateError(Exception):
    """The action does not apply to the case as it is now (HTTP 409)."""

    def __init__(self, message: str, *, code: str = "invalid_status"):
        super().__init__(message)
        self.message = message
        self.code = code


class CaseConflict(CaseStateError):
    """The case changed since the client loaded it (its ``version`` moved on)."""

    def __init__(self, message: str):
        super().__init__(message, code="stale_version")


class CasePermissionError(PermissionDenied):
    """The person may not do this, in general or on this case (HTTP 403)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
