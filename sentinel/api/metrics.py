"""``GET /metrics`` for a Prometheus scraper: a bearer token, or loopback only when none is set.

A plain Django view, not a DRF one: no partner signature, session, CSRF or partner rate limit
applies to a scraper. Errors use the API's JSON error shape.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from sentinel.api.exceptions import error_body
from sentinel.metrics_scrape import exposition

# The classic text format, which generate_latest writes and every Prometheus version reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@never_cache
@require_GET
def metrics(request):
    return scraper_refusal(request) or HttpResponse(exposition(), content_type=CONTENT_TYPE)


def scraper_refusal(request) -> JsonResponse | None:
    """401 without the right token when SENTINEL_METRICS_TOKEN is set; 403 for a client off
    the loopback when it is not (development); None to let the scrape through."""
    token = settings.SENTINEL_METRICS_TOKEN
    if token:
        if _bearer_matches(request.META.get("HTTP_AUTHORIZATION", ""), token):
            return None
        refusal = JsonResponse(
            error_body("authentication_failed", "A valid metrics bearer token is required."),
            status=401,
        )
        refusal["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return refusal
    if _is_loopback(request.META.get("REMOTE_ADDR", "")):
        return None
    return JsonResponse(
        error_body(
            "permission_denied",
            "Metrics are served to loopback clients only while SENTINEL_METRICS_TOKEN is unset.",
        ),
        status=403,
    )


def _bearer_matches(header: str, token: str) -> bool:
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Constant time whatever the presented value, so timing tells nothing about the token.
    return hmac.compare_digest(presented.strip().encode(), token.encode())


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return (mapped or ip).is_loopback
