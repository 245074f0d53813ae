"""WSGI entry point (HTTP only; websockets need sentinel.asgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")

application = get_wsgi_application()
