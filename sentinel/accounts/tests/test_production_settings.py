"""Staff-access settings as production loads them (a fresh process, like an operator's)."""

from __future__ import annotations

import json

from sentinel.tests.test_settings import production_env, run

PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'idle': s.SENTINEL_SESSION_IDLE_SECONDS, "
    "'max': s.SENTINEL_SESSION_MAX_SECONDS, 'cookie_age': s.SESSION_COOKIE_AGE, "
    "'cookies': [s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME], "
    "'secure': [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY], "
    "'token_days': s.SENTINEL_API_TOKEN_DAYS, 'lockout': s.AXES_FAILURE_LIMIT}))"
)


def test_production_sessions_are_short_secure_and_set_from_the_environment(tmp_path):
    # Given a production environment that shortens the idle time and token lifetime
    env = production_env(
        tmp_path,
        SENTINEL_SESSION_IDLE_SECONDS="900",
        SENTINEL_SESSION_MAX_SECONDS="28800",
        SENTINEL_API_TOKEN_DAYS="7",
    )

    # When the settings load
    result = run(["-c", PROBE], env)

    # Then the limits are the operator's, and cookies are host-only, HTTPS-only, HttpOnly
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {
        "idle": 900,
        "max": 28800,
        "cookie_age": 28800,
        "cookies": ["__Host-sessionid", "__Host-csrftoken"],
        "secure": [True, True, True],
        "token_days": 7,
        "lockout": 5,
    }
