"""Static files served in front of Django, in the event loop, without touching a thread."""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles import finders
from servestatic.asgi import ServeStaticASGI


def serve_static(application) -> ServeStaticASGI:
    """Wrap an ASGI app: /static/ paths are answered by ServeStatic, the rest go to the app."""
    server = ServeStaticASGI(application, max_age=0 if settings.DEBUG else 3600)
    if settings.SENTINEL_STATIC_FROM_ROOT:
        server.add_files(str(settings.STATIC_ROOT), prefix=settings.STATIC_URL)
        return server
    # Later additions win in ServeStatic and the first finder wins in Django: add in reverse.
    locations = [
        (storage.location, settings.STATIC_URL + (getattr(storage, "prefix", None) or ""))
        for finder in finders.get_finders()
        for storage in getattr(finder, "storages", {}).values()
    ]
    for root, prefix in reversed(locations):
        server.add_files(root, prefix=prefix)
    return server
