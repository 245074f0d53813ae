"""Production settings, driven the way an operator starts Sentinel: manage.py in a fresh process."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from sentinel import embedded

PROJECT_DIR = Path(__file__).resolve().parents[2]
PRODUCTION = "sentinel.settings.production"
# Variables that change how settings load; each test states the ones it wants.
SCRUBBED = (
    "SECRET_KEY",
    "SENTINEL_ENCRYPTION_KEY",
    "SENTINEL_METRICS_TOKEN",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "CELERY_BROKER_URL",
    "PYTEST_XDIST_WORKER",
)


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A complete production environment: fresh secrets and the services the tests use."""
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    env.update(
        DJANGO_SETTINGS_MODULE=PRODUCTION,
        SECRET_KEY=secrets.token_urlsafe(64),
        SENTINEL_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        SENTINEL_METRICS_TOKEN=secrets.token_urlsafe(32),
        ALLOWED_HOSTS="sentinel.example.com",
        # The services of this test run (the embedded servers' URLs if it started them).
        DATABASE_URL=embedded.database_url(),
        REDIS_URL=embedded.redis_url(),
        # Should a setting ever start embedded servers, they must not touch the checkout's.
        SENTINEL_STATE_DIR=str(tmp_path / "state"),
        STATIC_ROOT=str(tmp_path / "static"),
    )
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "SENTINEL_ENCRYPTION_KEY",
        "SENTINEL_METRICS_TOKEN",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
    ],
)
def test_production_refuses_to_start_without_a_required_variable(tmp_path, missing):
    # Given a production environment that lacks one required variable
    env = production_env(tmp_path)
    del env[missing]

    # When an operator runs any management command
    result = run(["manage.py", "check"], env)

    # Then it stops, naming the variable to set
    assert result.returncode != 0
    assert f"{missing} must be set in the environment" in result.stderr
    # and started no embedded server in place of a missing URL
    assert not (tmp_path / "state").exists()


def test_production_without_secrets_names_the_secret_key(tmp_path):
    # Given an environment scrubbed of both secrets
    env = production_env(tmp_path)
    del env["SECRET_KEY"], env["SENTINEL_ENCRYPTION_KEY"]

    # When the server would start
    result = run(["manage.py", "check"], env)

    # Then the error says which variable is missing, not a traceback about something else
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set" in result.stderr


def test_deployment_checklist_passes_without_warnings(tmp_path):
    # Given a complete production environment
    env = production_env(tmp_path)

    # When Django's deployment checklist runs, failing on any warning
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    # Then it finds nothing to complain about
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_never_runs_in_debug_mode(tmp_path):
    # Given a production environment where someone also set DJANGO_DEBUG
    env = production_env(tmp_path, DJANGO_DEBUG="true")
    probe = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, "
        "'secure_cookies': s.SESSION_COOKIE_SECURE and s.CSRF_COOKIE_SECURE}))"
    )

    # When the settings load
    result = run(["-c", probe], env)

    # Then DEBUG is still off, only the configured host is served, and cookies are HTTPS-only
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {"debug": False, "hosts": ["sentinel.example.com"], "secure_cookies": True}


def test_production_hardens_the_edge(tmp_path):
    # Given a complete production environment, even one asking for v1 signatures off
    env = production_env(tmp_path, SENTINEL_SIGNATURE_V1_ACCEPTED="0")
    probe = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'https': s.SENTINEL_WEBHOOK_HTTPS_ONLY, "
        "'private': s.SENTINEL_WEBHOOK_ALLOW_PRIVATE_ADDRESSES, "
        "'v1': s.SENTINEL_SIGNATURE_V1_ACCEPTED, "
        "'csp': 'sentinel.csp.ContentSecurityPolicyMiddleware' in s.MIDDLEWARE}))"
    )

    # When the settings load
    result = run(["-c", probe], env)

    # Then webhooks go to public https endpoints only, every page has a CSP, and the
    # operator's choice about v1 signatures holds
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {"https": True, "private": False, "v1": False, "csp": True}
