"""Development settings used by `make run` and manage.py: keys generated once under .sentinel/."""

from __future__ import annotations

import os

from sentinel.keys import development_key

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SENTINEL_ALLOW_DEMO = True  # `make run` seeds the demo on first start
SECRET_KEY = os.environ.get("SECRET_KEY") or development_key("secret_key")
SENTINEL_ENCRYPTION_KEY = os.environ.get("SENTINEL_ENCRYPTION_KEY") or development_key(
    "encryption_key"
)
