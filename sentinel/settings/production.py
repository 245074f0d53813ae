"""Production settings: every secret and endpoint comes from the environment, or start-up fails."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in the environment for production.")
    return value


# Checked before base is imported: for an unset URL base starts an embedded server (and then
# sets the variable), which would let production run on a throwaway local database.
required("DATABASE_URL")
required("REDIS_URL")

from .base import *  # noqa: E402, F403

DEBUG = False
SENTINEL_ALLOW_DEMO = False  # never demo data on a real database, whatever the environment says
SECRET_KEY = required("SECRET_KEY")
SENTINEL_ENCRYPTION_KEY = required("SENTINEL_ENCRYPTION_KEY")
ALLOWED_HOSTS = required("ALLOWED_HOSTS").split(",")
# Behind a reverse proxy on the same host every client looks like loopback, so production
# serves /metrics only to holders of the token.
SENTINEL_METRICS_TOKEN = required("SENTINEL_METRICS_TOKEN")

SENTINEL_STATIC_FROM_ROOT = True  # run `manage.py collectstatic` when deploying
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Probes and scrapers often speak plain HTTP to the app port; redirecting a scrape to HTTPS
# would not protect its token (already sent) and only break it.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

# --- Staff access (docs/security.md#staff-access) ---
# The __Host- prefix makes browsers refuse these cookies unless Secure, for this host only and
# for every path: a sibling subdomain cannot plant a session or CSRF cookie.
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# --- end of staff access ---

# --- Edge and partner access (docs/security.md) ---
SENTINEL_WEBHOOK_HTTPS_ONLY = True
SENTINEL_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
