"""Project-level pages: health and the staff home."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from alerts.selectors import alert_feed
from sentinel.api.exceptions import error_body
from sentinel.api.metrics import scraper_refusal
from sentinel.health import service_health
from transactions.selectors import partner_activity_summary


@never_cache
@require_GET
def healthz(request):
    # The public (a load balancer) learns which part fails, never why: exception text names
    # hosts, ports and users. Whoever may scrape /metrics also gets the reason.
    report = service_health(details=scraper_refusal(request) is None)
    healthy = all(value == "ok" for value in report.values())
    return JsonResponse(report, status=200 if healthy else 503)


@login_required
def home(request):
    alerts, open_alerts = alert_feed(user=request.user)
    context = {
        "partners": partner_activity_summary(),
        "alerts": alerts,
        "open_alerts": open_alerts,
        "can_see_alerts": request.user.has_perm("alerts.view_alert"),
    }
    return render(request, "home.html", context)


def not_found(request, exception=None):
    """API clients get the contract's JSON error; people get Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("server_error", "An internal error occurred; it has been logged."),
            status=500,
        )
    return defaults.server_error(request)
