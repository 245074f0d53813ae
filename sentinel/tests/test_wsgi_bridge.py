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
