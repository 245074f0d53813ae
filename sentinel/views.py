"""Project-level pages: health and the staff home."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from sentinel.health import service_health
from transactions.selectors import partner_activity_summary


@never_cache
@require_GET
def healthz(request):
    report = service_health()
    healthy = all(value == "ok" for value in report.values())
    return JsonResponse(report, status=200 if healthy else 503)


@login_required
def home(request):
    return render(request, "home.html", {"partners": partner_activity_summary()})
