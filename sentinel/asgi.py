"""ASGI entry point: websockets through Channels, HTTP through Django's WSGI handler.

Plain HTTP requests go to Django's WSGI handler on a thread pool (sentinel.wsgi_bridge) rather
than to Django's ASGI handler: every view here is synchronous (DRF), and the ASGI handler's
per-request thread hops for signals, middleware and the view cost about as much CPU as the view.
Websockets, which need async, are served by Channels on the same port, and static files by
ServeStatic in the event loop.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")

# Django must be set up before anything imports models.
django_wsgi = get_wsgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from sentinel.accounts.websocket import StaffSessionMiddleware  # noqa: E402
from sentinel.collector import collector_settle  # noqa: E402
from sentinel.middleware import body_limit_for  # noqa: E402
from sentinel.routing import websocket_urlpatterns  # noqa: E402
from sentinel.static_files import serve_static  # noqa: E402
from sentinel.wsgi_bridge import WSGIBridge  # noqa: E402

HTTP_THREADS = int(os.environ.get("SENTINEL_HTTP_THREADS", "4"))
MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

application = ProtocolTypeRouter(
    {
        "http": serve_static(
            WSGIBridge(
                django_wsgi,
                threads=HTTP_THREADS,
                max_body_bytes=MAX_BODY_BYTES,
                limit_for=body_limit_for,
            )
        ),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(StaffSessionMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# Everything loaded so far lives as long as the process: out of the collector's sight, a full
# collection walks only what requests made. With the ~150,000 start-up objects in sight, each
# one stopped the process's request threads for 90-95 ms, which set the `?wait=true` p99;
# frozen, 9-22 ms (bench/wait.py, this machine). The young generation is collected less often
# (sentinel/collector.py).
collector_settle()
