"""Test settings: the real PostgreSQL and Redis, Celery tasks run in-process."""

from __future__ import annotations

import os

from .local import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

# xdist workers share one Redis: each keeps its own key space.
SENTINEL_REDIS_PREFIX = f"sentinel-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
CACHES["default"]["KEY_PREFIX"] = SENTINEL_REDIS_PREFIX  # noqa: F405
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"{SENTINEL_REDIS_PREFIX}:channels"  # noqa: F405

# Django's test runner empties the tables after a transactional test with one TRUNCATE, which
# the history tables' trigger refuses unless the connection asks (sentinel.history). UPDATE and
# DELETE stay refused, in tests as everywhere.
DATABASES["default"]["OPTIONS"]["options"] = "-c sentinel.allow_history_truncate=on"  # noqa: F405

# Network analytics and the risk model are off by default (base.py); the suite covers them on,
# the model's provider last.
SENTINEL_NETWORK_ANALYTICS = SENTINEL_RISK_MODEL = True
_SWITCHED = [
    "sentinel.network.features.NetworkFeatures",
    "sentinel.riskmodel.provider.ModelFeatures",
]
SENTINEL_FEATURE_PROVIDERS = [
    *(path for path in SENTINEL_FEATURE_PROVIDERS if path not in _SWITCHED),  # noqa: F405
    *_SWITCHED,
]
