"""Content-Security-Policy on every HTML page, with a fresh nonce per request.

Scripts and style sheets load from this origin only; an inline ``<script>`` or ``<style>`` runs
only with the request's nonce (``nonce="{{ request.csp_nonce }}"``), so markup an attacker
slips into a page (a case note, a customer name) cannot run script or restyle the page.
Inline event handlers (``onclick=``) and ``javascript:`` URLs never run. Style attributes are
refused too, except the few exact values listed in SENTINEL_CSP_STYLE_ATTRIBUTES (allowed by
hash, CSP's 'unsafe-hashes'). Django 5.2 has no built-in CSP (6.0 does); this is the same
idea in a few lines, with no dependency.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.conf import settings
from django.utils.functional import SimpleLazyObject


def _hash_source(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_security_policy(nonce: str) -> str:
    attributes = [_hash_source(v) for v in settings.SENTINEL_CSP_STYLE_ATTRIBUTES]
    style_attr = " ".join(["'unsafe-hashes'", *attributes]) if attributes else "'none'"
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": f"'self' 'nonce-{nonce}'",
        "style-src-attr": style_attr,
        "img-src": "'self' data:",
        "font-src": "'self' data:",
        "connect-src": "'self'",  # CSP 3: 'self' covers ws:// and wss:// on the same host
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = SimpleLazyObject(lambda: secrets.token_urlsafe(18))
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.setdefault(
                "Content-Security-Policy", content_security_policy(str(request.csp_nonce))
            )
        return response
