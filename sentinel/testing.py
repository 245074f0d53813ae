"""Helpers the test suites of several apps share (tests only; nothing in the product uses them)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from urllib.parse import urlencode, urlsplit

from django.core.management import call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from transactions.api.authentication import sign


def run_concurrently(count: int, work: Callable[[], object]) -> list:
    """Start ``count`` threads that call ``work()`` at the same instant; their results, in
    order. Each thread closes its own database connection when done."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work()
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def logged_in(user, client_class: type[Client] = Client) -> Client:
    """A test client (``APIClient`` for the staff API) with ``user`` logged in: a real
    session, as the browser has."""
    client = client_class()
    client.force_login(user)
    return client


def command_output(*args: str, **options) -> str:
    """Run a management command as an operator would; what it printed."""
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


class SignedClient:
    """Sends requests signed the way a partner bank signs them (the ``partner_client``
    fixture makes one for a new partner)."""

    def __init__(self, key_id: str, secret: str):
        self.key_id = key_id
        self.secret = secret
        self.client = APIClient()

    def headers(self, body: bytes, timestamp: int | None = None, secret: str | None = None):
        timestamp = int(time.time()) if timestamp is None else timestamp
        return {
            "HTTP_X_SENTINEL_KEY": self.key_id,
            "HTTP_X_SENTINEL_TIMESTAMP": str(timestamp),
            "HTTP_X_SENTINEL_SIGNATURE": sign(secret or self.secret, timestamp, body),
        }

    def post(self, path: str, payload=None, *, raw: bytes | None = None, **options):
        body = raw if raw is not None else json.dumps(payload).encode()
        content_type = options.pop("content_type", "application/json")
        headers = self.headers(body, options.pop("timestamp", None), options.pop("secret", None))
        return self.client.generic("POST", path, body, content_type, **headers, **options)

    def get(self, path: str, params: dict | None = None, **options):
        query = f"?{urlencode(params)}" if params else ""
        headers = self.headers(b"", options.pop("timestamp", None), options.pop("secret", None))
        return self.client.get(path + query, **headers, **options)


PAGE_FIELDS = frozenset({"next", "previous", "results"})


def keyset_pages(
    client, first: str, towards: str, *, fields: frozenset = PAGE_FIELDS, most: int = 500
) -> list[list]:
    """The pages of ids met following a keyset-paged list's ``towards`` links ("next" or
    "previous") from ``first``; every page must answer 200 with exactly these ``fields``, and
    there must be fewer than ``most`` (more: the links go round in a circle)."""
    pages, link = [], first
    while link:
        response = client.get(link)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == fields, sorted(body)
        pages.append([row["id"] for row in body["results"]])
        link = body[towards] and link_path(body[towards])
        assert len(pages) < most, "the links go round in a circle"
    return pages


def link_path(link: str) -> str:
    """A paging link's path and query (what a signed client requests)."""
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 (a partner's webhook, a Slack incoming webhook)
    that answers each POST with the next scripted behaviour: an HTTP status, "slow" (answers
    200 after the sender gave up), or "garbage" (not HTTP). Tests using it switch
    SENTINEL_WEBHOOK_ALLOW_PRIVATE_ADDRESSES on for themselves."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                behaviour = receiver.script.pop(0) if receiver.script else 200
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "behaviour": behaviour}
                )
                if behaviour == "slow":
                    time.sleep(1.5)
                    behaviour = 200
                if behaviour == "garbage":
                    self.wfile.write(b"\x00\x01 not http at all\r\n\r\n")
                    return
                self.send_response(behaviour)
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sentinel/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
