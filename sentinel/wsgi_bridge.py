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
import sys
from concurrent.futures import ThreadPoolExecutor

_TOO_LARGE = (
    b'{"error": {"code": "payload_too_large", "message": "The request body is too large."}}'
)


class WSGIBridge:
    def __init__(self, application, *, threads: int, max_body_bytes: int):
        self.application = application
        self.max_body_bytes = max_body_bytes
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")

    async def __call__(self, scope, receive, send) -> None:
        body = await self._read_body(scope, receive)
        if body is None:
            return await _respond(send, 413, [(b"content-type", b"application/json")], _TOO_LARGE)
        environ = _environ(scope, body)
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(self.executor, self._run, environ)
        await _respond(send, status, headers, content)

    async def _read_body(self, scope, receive) -> bytes | None:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return bytes(body)
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
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
