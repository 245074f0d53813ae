"""Serve Django's WSGI handler from an ASGI server with one thread hop per request.

Every Sentinel view is synchronous (DRF), so HTTP requests need no async machinery: the body
is read in the event loop (bounded), the WSGI application runs once on a worker thread, and the
response is sent from the loop. Generic bridges hop between the loop and the thread for every
body chunk and response message; Django's own ASGI handler also hops for request signals and
sync middleware. Measured on the ingest endpoint, this halves the server's share of the CPU.
Responses are buffered, which suits an API; large downloads should stream from elsewhere.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def _too_large(limit: int, path: str) -> bytes:
    message = f"The request body exceeds the {limit:,}-byte limit of {path}."
    return json.dumps({"error": {"code": "payload_too_large", "message": message}}).encode()


class WSGIBridge:
    """``max_body_bytes`` caps every body; ``limit_for(path)`` may lower it for a path.

    The limit is enforced while the body arrives: once a request declares or streams more than
    its path allows, it is answered 413 and the rest is never read, so a client cannot make a
    process buffer 16 MiB for an endpoint that takes 1 MiB (chunked bodies declare nothing).
    """

    def __init__(
        self,
        application,
        *,
        threads: int,
        max_body_bytes: int,
        limit_for: Callable[[str], int | None] | None = None,
    ):
        self.application = application
        self.max_body_bytes = max_body_bytes
        self.limit_for = limit_for
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")

    async def __call__(self, scope, receive, send) -> None:
        limit = self._limit(scope["path"])
        body = await self._read_body(scope, receive, limit)
        if body is None:
            headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
            return await _respond(send, 413, headers, _too_large(limit, scope["path"]))
        environ = _environ(scope, body)
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(self.executor, self._run, environ)
        await _respond(send, status, headers, content)

    def _limit(self, path: str) -> int:
        specific = self.limit_for(path) if self.limit_for is not None else None
        return self.max_body_bytes if specific is None else min(specific, self.max_body_bytes)

    async def _read_body(self, scope, receive, limit: int) -> bytes | None:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return None
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return bytes(body)
            body += message.get("body", b"")
            if len(body) > limit:
                return None
            if not message.get("more_body"):
                return bytes(body)

    def _run(self, environ: dict) -> tuple[int, list, bytes]:
        captured: dict = {}
        chunks: list[bytes] = []

        def start_response(status: str, headers: list, exc_info=None):
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = [
                (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
            ]
            return chunks.append

        result = self.application(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return captured["status"], captured["headers"], b"".join(chunks)


async def _respond(send, status: int, headers: list, content: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def _environ(scope: dict, body: bytes) -> dict:
    """PEP 3333 environ from an ASGI HTTP scope."""
    server_name, server_port = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    path = scope.get("root_path", "") + scope["path"]
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server_name),
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "RAW_URI": path,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_LENGTH" or name == "CONTENT_TYPE":
            environ[name] = value
            continue
        key = f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    if body and "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ
