"""Settings shared by every environment; everything that varies comes from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from sentinel import embedded

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# seed_demo and demo_traffic write made-up partners, keys, users and sanctions entries: only
# the local and test settings allow them (sentinel.demo.guard).
SENTINEL_ALLOW_DEMO = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "channels",
    "sentinel",
    "transactions",
    "rules",
    "alerts",
    "cases",
    "sentinel.riskmodel",  # the learned risk score: reads transactions and rules
    "sentinel.monitoring",
    "sentinel.screening",  # above rules (a feature provider), below the pipeline
    "sentinel.network",
    "sentinel.pipeline",
    "sentinel.audit",  # reads no app: its triggers name the audited tables
    "sentinel.reports",  # reads every product app; none reads it
    "sentinel.demo",  # above every product app: it seeds them all
]

MIDDLEWARE = [
    "sentinel.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who acts, for the audit trigger; every 403 into the audit trail (docs/security.md).
    "sentinel.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sentinel.urls"
WSGI_APPLICATION = "sentinel.wsgi.application"
ASGI_APPLICATION = "sentinel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Services: the URLs if set, embedded servers otherwise (see sentinel/embedded.py) ---
DATABASES = {
    "default": dj_database_url.parse(embedded.database_url(), conn_max_age=0),
}
DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": 16, "timeout": 10}}
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SENTINEL_TEST_DATABASE", None)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = embedded.redis_url()
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "sentinel",
    }
}
# A consumer waits for its messages with a blocking pop of up to 5 s (channels_redis'
# brpop_timeout). redis-py 8 reads with a 5 s socket timeout by default, which fires first and
# kills every idle websocket (channels_redis#422); the read timeout must outlast the pop.
CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS = 15
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {"address": REDIS_URL, "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS}
            ],
            "prefix": "sentinel:channels",
        },
    }
}

# --- Celery (CELERY_ namespace, read by sentinel/celery.py) ---
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "profile-unprocessed-transactions": {
        "task": "sentinel.pipeline.tasks.sweep_unprocessed_transactions",
        "schedule": 30.0,
    },
    # The operational monitor: fold new transactions into minute aggregates, judge the last
    # complete minute, raise/escalate/resolve operational alerts (docs/monitor.md).
    "monitor-cycle": {
        "task": "sentinel.monitoring.tasks.monitor_cycle",
        "schedule": 60.0,
    },
    # A new model version in shadow on the last 30 days of decisions and labels (docs/models.md).
    "train-model": {
        "task": "sentinel.riskmodel.tasks.train_model",
        "schedule": 7 * 86400.0,
    },
    # The live model's drift, handed to the operational monitor (docs/models.md § Drift).
    "measure-model-drift": {
        "task": "sentinel.pipeline.tasks.measure_model_drift",
        "schedule": 86400.0,
    },
    "requeue-overdue-webhooks": {
        "task": "alerts.tasks.requeue_overdue_webhooks",
        "schedule": 60.0,
    },
    # The transaction graph keeps SENTINEL_NETWORK_RETENTION_DAYS of transfers (docs/network.md).
    "prune-network-transfers": {
        "task": "sentinel.network.tasks.prune_transfers",
        "schedule": 3600.0,
    },
    # Rings across accounts over the graph's last 10 days, one alert per new ring
    # (docs/network.md § The window scan); nothing while network analytics is off.
    "scan-network-rings": {
        "task": "sentinel.pipeline.tasks.scan_network_rings",
        "schedule": 6 * 3600.0,
    },
    # Proximity to known-bad accounts recomputed from all seeds (docs/network.md § Proximity):
    # new transfers bring accounts nearer, lifted flags take them away; new flags apply at once.
    "refresh-network-proximity": {
        "task": "sentinel.pipeline.tasks.refresh_network_proximity",
        "schedule": 3600.0,
    },
}

# --- Auth and sessions ---
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / ".sentinel" / "staticfiles"))
# Static files are served by ServeStatic in front of Django in sentinel.asgi: straight from the
# app folders in development, from STATIC_ROOT (collectstatic, hashed names) in production.
SENTINEL_STATIC_FROM_ROOT = False

# Batches of 1,000 transactions reach several MiB; the per-endpoint limits live in
# sentinel.middleware.BodySizeLimitMiddleware.
DATA_UPLOAD_MAX_MEMORY_SIZE = 17 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
SENTINEL_BODY_LIMITS = {
    "/api/v1/transactions/batch/": 16 * 1024 * 1024,
    "/api/": 1024 * 1024,
}

# --- REST framework ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "transactions.api.authentication.PartnerSignatureAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["sentinel.api.parsers.StrictJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "sentinel.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "sentinel.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sentinel API",
    "DESCRIPTION": (
        "Transaction monitoring API for partner banks. Every /api/v1/ call by a partner is "
        "signed: see docs/api.md."
    ),
    "VERSION": "1.0.0",
    # 3.1: request bodies are described by pydantic, whose JSON Schema is the 3.1 dialect.
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # The same choice sets appear in several components (a transaction's type, a rule's scope).
    "ENUM_NAME_OVERRIDES": {
        "TransactionTypeEnum": "transactions.choices.TransactionType",
        "SeverityEnum": "rules.choices.Severity",
        "RuleStatusEnum": "rules.choices.RuleStatus",
        "AlertStatusEnum": "alerts.choices.AlertStatus",
        "MonitorSeverityEnum": "sentinel.monitoring.choices.HealthSeverity",
        "CaseStatusEnum": "cases.choices.CaseStatus",
        "DispositionEnum": "cases.choices.Disposition",
        "TypologyEnum": "rules.choices.Typology",
        "DecisionOutcomeEnum": "rules.choices.DecisionOutcome",
        "RuleOutcomeEnum": "rules.choices.RuleOutcome",
        "FeedbackOutcomeEnum": "transactions.choices.PARTNER_OUTCOMES",
    },
}

# --- Sentinel ---
SENTINEL_SIGNATURE_WINDOW_SECONDS = 300
SENTINEL_DEFAULT_RATE_LIMIT_PER_MINUTE = int(os.environ.get("SENTINEL_RATE_LIMIT", "60000"))
SENTINEL_PROFILE_SWEEP_AFTER_SECONDS = int(
    os.environ.get("SENTINEL_PROFILE_SWEEP_AFTER_SECONDS", "30")
)
# Profiling queues, sharded by account (transactions.services): up to this many worker
# processes profile and score at once. Changing it leaves ids in the old shards to the sweep.
SENTINEL_PROFILE_SHARDS = int(os.environ.get("SENTINEL_PROFILE_SHARDS", "2"))
# Feature providers (rules.features): each makes a family of per-transaction values available
# to the rule language. A new detection family is one module plus one line here.
SENTINEL_FEATURE_PROVIDERS = [
    "rules.features.profile.ProfileFeatures",
    "rules.features.aggregates.AggregateFeatures",
    "rules.features.currency.CurrencyFeatures",
    "sentinel.screening.features.ScreeningFeatures",
]
# Network analytics (sentinel.network, docs/network.md): the transaction graph, its searches and
# the `network` features. Off by default: on, it still costs more worker CPU per transaction
# than its budget (docs/network.md § Cost); turn it on, then put the network rules live.
SENTINEL_NETWORK_ANALYTICS = os.environ.get("SENTINEL_NETWORK_ANALYTICS", "0") == "1"
if SENTINEL_NETWORK_ANALYTICS:
    SENTINEL_FEATURE_PROVIDERS.append("sentinel.network.features.NetworkFeatures")
# The learned risk score (sentinel.riskmodel, docs/models.md): a feature snapshot kept with each
# decision for training, and the `model` features. Off by default until its cost on the scoring
# path is measured within budget (docs/models.md); its provider comes last, since it reads what
# the others gave. Turn it on, train, then approve a version and put the model rules live.
SENTINEL_RISK_MODEL = os.environ.get("SENTINEL_RISK_MODEL", "0") == "1"
if SENTINEL_RISK_MODEL:
    SENTINEL_FEATURE_PROVIDERS.append("sentinel.riskmodel.provider.ModelFeatures")
# How far back the transaction graph keeps transfers (docs/network.md): the window scan's 10
# days and, behind them, a month and more, so that a monthly payee is not a new one.
SENTINEL_NETWORK_RETENTION_DAYS = int(os.environ.get("SENTINEL_NETWORK_RETENTION_DAYS", "42"))
# The detectors' parameters (searches and window scan) are versioned in the database, four eyes
# to put one in force (docs/network.md § Parameters), not settings.
# The account lists whose entries are known-bad accounts for network proximity
# (network.hops_to_flagged, docs/network.md § Proximity); comma-separated names. Never an
# allow-list: its accounts would count as bad.
SENTINEL_NETWORK_FLAGGED_LISTS = tuple(
    name.strip()
    for name in os.environ.get("SENTINEL_NETWORK_FLAGGED_LISTS", "watchlist_accounts").split(",")
    if name.strip()
)
# How far back rolling aggregates keep events (rule windows are at most 31 days).
SENTINEL_AGGREGATE_RETENTION_DAYS = int(os.environ.get("SENTINEL_AGGREGATE_RETENTION_DAYS", "35"))
# A rolling-aggregate call that would read more members than this (hot accounts) records its
# events, then computes in smaller calls that each read a busy key once (rules.aggregates).
SENTINEL_AGGREGATE_READ_BUDGET = int(os.environ.get("SENTINEL_AGGREGATE_READ_BUDGET", "5000"))
# Money-flow view (transactions.flows): how far after (or before) a transaction a hop looks,
# and how many transactions one hop shows, largest first (the rest are "+N more").
SENTINEL_MONEY_FLOW_HORIZON_DAYS = int(os.environ.get("SENTINEL_MONEY_FLOW_HORIZON_DAYS", "30"))
SENTINEL_MONEY_FLOW_FAN_OUT = 10
# A conversion uses the rate of the transaction's date, else the latest one published at most
# this many days before (weekends, holidays); older than that, the amount has no rate.
SENTINEL_EXCHANGE_RATE_MAX_AGE_DAYS = int(
    os.environ.get("SENTINEL_EXCHANGE_RATE_MAX_AGE_DAYS", "7")
)
SENTINEL_ENCRYPTION_KEY = os.environ.get("SENTINEL_ENCRYPTION_KEY", "")
# Operational monitor: how far back each aggregation run re-reads already-seen transactions,
# so one that commits later than a newer one is still counted (docs/monitor.md).
SENTINEL_MONITOR_OVERLAP_SECONDS = int(os.environ.get("SENTINEL_MONITOR_OVERLAP_SECONDS", "120"))
# Operational alerts also go to this Slack-compatible incoming webhook, for partners without
# their own (MonitorSettings.slack_webhook_url); empty: none. Attempts, backoff and timeout
# are the partner webhooks' SENTINEL_WEBHOOK_* below; the URL passes the same SSRF check.
SENTINEL_MONITOR_SLACK_WEBHOOK_URL = os.environ.get("SENTINEL_MONITOR_SLACK_WEBHOOK_URL", "")
# The learned risk score's daily drift (docs/models.md § Drift): an operational alert when the
# score's or the worst input's population stability index is above these (WARNING, CRITICAL).
SENTINEL_MONITOR_DRIFT_MOVING_PSI = float(
    os.environ.get("SENTINEL_MONITOR_DRIFT_MOVING_PSI", "0.1")
)
SENTINEL_MONITOR_DRIFT_SHIFTED_PSI = float(
    os.environ.get("SENTINEL_MONITOR_DRIFT_SHIFTED_PSI", "0.25")
)
# Who is handed each drift measurement (sentinel.pipeline.drift), as plain values: neither the
# pipeline nor the model may import the monitor (pyproject's contracts), so, like the feature
# providers, the watchers are named here. A new watcher is one function plus one line.
SENTINEL_MODEL_DRIFT_WATCHERS = ["sentinel.monitoring.services.model_drift_judge"]

# GET /metrics (docs/operations.md): scrapers send `Authorization: Bearer <token>`. Unset, only
# loopback clients are served (development); production refuses to start without it.
SENTINEL_METRICS_TOKEN = os.environ.get("SENTINEL_METRICS_TOKEN", "").strip()
# OpenTelemetry tracing of ingest and the pipeline (sentinel.tracing, docs/operations.md):
# off by default; on, the exporter is configured by the standard OTEL_* variables.
SENTINEL_OTEL = env_bool("SENTINEL_OTEL", False)

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sentinel@localhost")
# Critical alerts (rule and operational) are emailed here; empty switches the email off.
SENTINEL_ON_CALL_EMAIL = os.environ.get("SENTINEL_ON_CALL_EMAIL", "oncall@localhost")
# Partner webhooks: 8 attempts, 10 s doubling to at most 1 h apart (about 42 min in all).
SENTINEL_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("SENTINEL_WEBHOOK_MAX_ATTEMPTS", "8"))
SENTINEL_WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("SENTINEL_WEBHOOK_BACKOFF_SECONDS", "10"))
SENTINEL_WEBHOOK_BACKOFF_MAX_SECONDS = 3600.0
SENTINEL_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("SENTINEL_WEBHOOK_TIMEOUT_SECONDS", "5"))

# --- Cases (docs/cases.md) ---
# Hours from opening to the due date, by the case's severity (the highest of its alerts').
SENTINEL_CASE_SLA_HOURS = {"critical": 24, "high": 72, "medium": 168, "low": 336}
SENTINEL_CASE_DUE_SOON_HOURS = 12
# Evidence files live outside the web root and are served only through a permission check.
SENTINEL_ATTACHMENT_ROOT = Path(
    os.environ.get("SENTINEL_ATTACHMENT_ROOT", BASE_DIR / ".sentinel" / "attachments")
)
SENTINEL_ATTACHMENT_MAX_BYTES = int(os.environ.get("SENTINEL_ATTACHMENT_MAX_BYTES", 10 * 2**20))

# --- Staff access (sentinel.accounts, docs/security.md#staff-access) ---
# Kept together: lockout of failed logins (django-axes), the TOTP second factor (django-otp),
# session timeouts and hashed, expiring API tokens.
INSTALLED_APPS += [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "sentinel.accounts",
]
MIDDLEWARE.insert(  # after AuthenticationMiddleware: OTP state, then the session and OTP rules
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(  # after MessageMiddleware: it tells a timed-out user why
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "sentinel.accounts.middleware.StaffAccessMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # django-axes wants to be last
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out username+IP pairs first
    "django.contrib.auth.backends.ModelBackend",
]
# Failed logins are counted per username and client address together, so a guesser cannot
# lock a colleague out from elsewhere; 5 failures lock that pair for the cool-off period.
AXES_FAILURE_LIMIT = int(os.environ.get("SENTINEL_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SENTINEL_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# The client address is REMOTE_ADDR: behind a reverse proxy let the ASGI server rewrite it
# from X-Forwarded-For for trusted proxies only (uvicorn --forwarded-allow-ips).
OTP_TOTP_ISSUER = os.environ.get("SENTINEL_OTP_ISSUER", "Sentinel")
# Sessions: logged out after this long without a request, and after this long in any case.
SENTINEL_SESSION_IDLE_SECONDS = int(os.environ.get("SENTINEL_SESSION_IDLE_SECONDS", "1800"))
SENTINEL_SESSION_MAX_SECONDS = int(os.environ.get("SENTINEL_SESSION_MAX_SECONDS", "43200"))
SESSION_COOKIE_AGE = SENTINEL_SESSION_MAX_SECONDS
SESSION_COOKIE_SAMESITE = "Lax"
# Staff API tokens (sentinel.accounts.ApiToken): stored as SHA-256 digests, expiring.
SENTINEL_API_TOKEN_DAYS = int(os.environ.get("SENTINEL_API_TOKEN_DAYS", "30"))
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "sentinel.accounts.authentication.StaffTokenAuthentication"
    if dotted == "rest_framework.authentication.TokenAuthentication"
    else dotted
    for dotted in REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
]
# --- end of staff access ---

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Edge and partner access (docs/security.md § Edge and partner access) ---
# Rate limits count transactions: a batch of 1,000 takes 1,000 tokens. The default,
# SENTINEL_RATE_LIMIT = 60,000 a minute (1,000 transactions/s) per partner, is a large bank's
# peak and about a fifth of what one server ingests (docs/performance.md), so no single partner
# can take the API from the others. With Redis unreachable the limiter lets requests through
# for this many seconds, then answers 503 with Retry-After until Redis is back.
SENTINEL_RATE_LIMIT_GRACE_SECONDS = float(os.environ.get("SENTINEL_RATE_LIMIT_GRACE_SECONDS", "10"))
# v1 signatures (the contract's, over timestamp and body only) stay accepted until every
# partner signs with v2; set to 0 to refuse them.
SENTINEL_SIGNATURE_V1_ACCEPTED = env_bool("SENTINEL_SIGNATURE_V1_ACCEPTED", True)
# Partner webhooks go only to public (globally routable) addresses, checked when an endpoint is
# saved and again on the resolved address at each send; production also requires https. Tests
# that run a receiver on 127.0.0.1 switch the address check off for themselves only.
SENTINEL_WEBHOOK_HTTPS_ONLY = env_bool("SENTINEL_WEBHOOK_HTTPS_ONLY", False)
SENTINEL_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
# A Content-Security-Policy on every HTML page (sentinel.csp), innermost so it sees the page.
MIDDLEWARE = [*MIDDLEWARE, "sentinel.csp.ContentSecurityPolicyMiddleware"]
# Content-Security-Policy (sentinel.csp): style attributes are refused except these exact
# values, allowed by hash. None today: pages style through classes.
SENTINEL_CSP_STYLE_ATTRIBUTES: list[str] = []
