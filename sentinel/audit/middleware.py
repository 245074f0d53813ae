"""Who is acting, for the audit trigger; and every refused request, for the trail.

``AuditContextMiddleware`` is pghistory's ``HistoryMiddleware`` with the method and client
address added: inside a request every writing SQL statement carries the acting user's id, so
the trigger (``sentinel.audit.triggers``) records who made each change, even a raw one. When a
view authenticates later (DRF), pghistory's request class updates the user as it is set.

Partner banks' signed requests carry no user and write no audited table: they pass without
the context, so the ingest path pays nothing for it.

It also records each 403 answer (a staff page or API call the user may not use) as a
``permission_denied`` entry, after the response is made.
"""

from __future__ import annotations

import ipaddress

from django.db import connection
from pghistory.middleware import HistoryMiddleware

from . import services

PARTNER_KEY_HEADER = "HTTP_X_SENTINEL_KEY"


def client_address(request) -> str | None:
    """The peer's IP address, or None when the server did not give one (a unix socket, a test
    client's "unknown"): the audit row is written either way."""
    address = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class AuditContextMiddleware(HistoryMiddleware):
    def get_context(self, request) -> dict:
        user = getattr(request, "user", None)
        user_id = (
            user._meta.pk.get_db_prep_value(user.pk, connection)
            if user is not None and hasattr(user, "_meta")
            else None
        )
        return {
            "user": user_id,
            "url": request.path,
            "method": request.method,
            "ip": client_address(request),
        }

    def __call__(self, request):
        if PARTNER_KEY_HEADER in request.META:
            # A partner bank's signed request: no staff user to name, and the ingest path
            # writes no audited table, so its statements go without the context prefix.
            response = self.get_response(request)
        else:
            response = super().__call__(request)
        if response.status_code == 403:
            services.audit_permission_denied(
                user=getattr(request, "user", None),
                method=request.method,
                path=request.path,
                ip_address=client_address(request),
            )
        return response
