"""ASGI entry point: websockets through Channels, HTTP through Django's WSGI handler.

Plain HTTP requests go to Django's WSGI handler on a thread pool (a2wsgi) rather than to
Django's ASGI handler: every view here is synchronous (DRF), and the ASGI handler's per-request
thread hops for signals, middleware and the view cost about as much CPU as the view itself.
Websockets, which need async, are served by Channels on the same port, and static files by
ServeStatic in the event loop.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")

# Django must be set up before anything imports models.
django_wsgi = get_wsgi_application()

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from sentinel.routing import websocket_urlpatterns  # noqa: E402
from sentinel.static_files import serve_static  # noqa: E402

HTTP_THREADS = int(os.environ.get("SENTINEL_HTTP_THREADS", "4"))

application = ProtocolTypeRouter(
    {
        "http": serve_static(WSGIMiddleware(django_wsgi, workers=HTTP_THREADS)),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
