"""The audit page for compliance officers and administrators: ``/audit/`` and its CSV."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from sentinel.csv_export import csv_response
from sentinel.timestamps import iso_utc

from . import selectors
from .filtersets import AuditEventFilterSet
from .models import AuditEvent

VIEW_PERMISSION = "audit.view_auditevent"
CSV_COLUMNS = [
    "id",
    "at",
    "action",
    "model",
    "object_id",
    "actor_id",
    "actor_username",
    "method",
    "path",
    "ip_address",
    "context_id",
    "before",
    "after",
]


@require_GET
@login_required
def audit_list(request):
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    filterset = AuditEventFilterSet(request.GET, queryset=AuditEvent.objects.all())
    valid = filterset.is_valid()  # invalid filters show nothing rather than everything
    if request.GET.get("format") == "csv":
        if not valid:
            return HttpResponseBadRequest("Invalid filters: " + filterset.errors.as_text())
        return _csv_response(filterset.qs)
    before = request.GET.get("before") or None
    if before is not None and not (before.isdigit() and len(before) < 19):
        return HttpResponseBadRequest("'before' must be an audit entry id.")
    events = filterset.qs if valid else AuditEvent.objects.none()
    page = selectors.audit_events_page(events=events, before=int(before) if before else None)
    query = request.GET.copy()
    query.pop("before", None)
    context = {"filter": filterset, "page": page, "query": query.urlencode()}
    return render(request, "audit/list.html", context, status=200 if valid else 400)


def _cell(value):
    """A failed login's typed username, for one, is anyone's to choose: every cell goes through
    sentinel.csv_export, which disarms formulas."""
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True)
    return value


def _rows(events) -> Iterator[list[str]]:
    yield CSV_COLUMNS
    for event in selectors.audit_events_export(events=events):
        values = {name: getattr(event, name) for name in CSV_COLUMNS}
        values["at"] = iso_utc(event.at)
        yield [_cell(values[name]) for name in CSV_COLUMNS]


def _csv_response(events) -> StreamingHttpResponse:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return csv_response(_rows(events), filename=f"audit-{stamp}.csv")
