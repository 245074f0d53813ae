"""The ASGI-to-WSGI bridge in front of Django: requests in, responses out, limits held."""

from __future__ import annotations

import asyncio
import json

from sentinel.wsgi_bridge import WSGIBridge


def echo_app(environ, start_response):
    """Answers with what it was given, and two cookies."""
    body = environ["wsgi.input"].read()
    seen = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "content_type": environ.get("CONTENT_TYPE"),
        "key": environ.get("HTTP_X_SENTINEL_KEY"),
        "accept": environ.get("HTTP_ACCEPT"),
        "remote": environ["REMOTE_ADDR"],
        "body": body.decode(),
    }
    start_response(
        "201 Created",
        [("Content-Type", "application/json"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
    )
    return [json.dumps(seen).encode()]


def call(bridge, *, path="/x", query=b"", headers=(), chunks=(b"",)):
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": query,
        "headers": list(headers),
        "client": ("203.0.113.7", 5000),
        "server": ("127.0.0.1", 8000),
    }
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(bridge(scope, receive, send))
    return sent


def test_request_reaches_the_wsgi_app_and_the_answer_comes_back_whole():
    bridge = WSGIBridge(echo_app, threads=2, max_body_bytes=1024)

    sent = call(
        bridge,
        path="/api/v1/transactions/é",
        query=b"type=p2p",
        headers=[
            (b"content-type", b"application/json"),
            (b"x-sentinel-key", b"sk_1"),
            (b"accept", b"a"),
            (b"accept", b"b"),
        ],
        chunks=[b'{"amount": ', b'"1.00"}'],
    )

    start, body = sent
    assert start["status"] == 201
    assert start["headers"].count((b"set-cookie", b"a=1")) == 1
    assert (b"set-cookie", b"b=2") in start["headers"]
    seen = json.loads(body["body"])
    assert seen == {
        "method": "POST",
        "path": "/api/v1/transactions/é".encode().decode("latin-1"),
        "query": "type=p2p",
        "content_type": "application/json",
        "key": "sk_1",
        "accept": "a,b",
        "remote": "203.0.113.7",
        "body": '{"amount": "1.00"}',
    }


def test_bodies_over_the_limit_are_refused_without_calling_the_app():
    calls = []

    def app(environ, start_response):
        calls.append(environ)
        start_response("200 OK", [])
        return [b""]

    bridge = WSGIBridge(app, threads=1, max_body_bytes=10)

    declared = call(bridge, headers=[(b"content-length", b"11")], chunks=[b"x" * 11])
    streamed = call(bridge, chunks=[b"x" * 6, b"x" * 6])

    assert declared[0]["status"] == 413
    assert streamed[0]["status"] == 413
    assert json.loads(streamed[1]["body"])["error"]["code"] == "payload_too_large"
    assert calls == []


def test_a_chunked_body_over_its_paths_limit_is_refused_before_the_rest_is_read():
    # Given the single-transaction endpoint takes 1 MiB and the batch endpoint 16 MiB, and an
    # attacker streams 17 MiB in 1 MiB chunks with no Content-Length to the 1 MiB endpoint
    calls = []

    def app(environ, start_response):
        calls.append(environ)
        start_response("200 OK", [])
        return [b""]

    limits = {"/api/v1/transactions/batch/": 16 * 2**20, "/api/": 2**20}

    def limit_for(path):
        return next(
            (limits[p] for p in sorted(limits, key=len, reverse=True) if path.startswith(p)), None
        )

    bridge = WSGIBridge(app, threads=1, max_body_bytes=17 * 2**20, limit_for=limit_for)
    chunk = b"x" * 2**20
    read = []
    sent = []

    async def receive():
        read.append(1)
        return {"type": "http.request", "body": chunk, "more_body": len(read) < 17}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/transactions/", "headers": []}

    # When the bridge reads it
    asyncio.run(bridge(scope, receive, send))

    # Then it answers 413 naming the path's limit as soon as the second chunk crosses 1 MiB,
    # never reads the other 15 chunks, and never calls Django
    assert sent[0]["status"] == 413
    error = json.loads(sent[1]["body"])["error"]
    assert error["code"] == "payload_too_large"
    assert "1,048,576-byte limit of /api/v1/transactions/" in error["message"]
    assert len(read) == 2
    assert calls == []


def test_the_batch_endpoint_keeps_its_larger_limit_and_a_declared_length_is_refused_unread():
    def app(environ, start_response):
        start_response("200 OK", [])
        return [str(len(environ["wsgi.input"].read())).encode()]

    bridge = WSGIBridge(
        app,
        threads=1,
        max_body_bytes=100,
        limit_for=lambda path: 50 if path == "/api/single/" else None,
    )

    # Given a 60-byte body: over the single path's 50, under the 100 elsewhere
    batch = call(bridge, path="/api/batch/", chunks=[b"x" * 30, b"x" * 30])
    declared = call(bridge, path="/api/single/", headers=[(b"content-length", b"60")], chunks=[])

    # Then the batch path takes it and the single path refuses it from its Content-Length alone
    assert batch[0]["status"] == 200
    assert batch[1]["body"] == b"60"
    assert declared[0]["status"] == 413
