"""The ASGI entry point, as uvicorn loads it in each web process."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_application_freezes_the_start_up_objects_out_of_the_collector():
    """Full collections then walk only what requests made: a request-time pause of ~90 ms
    each with the start-up objects in sight (the ?wait=true p99), ~10-20 ms frozen."""
    probe = "import gc, sentinel.asgi; print(gc.get_freeze_count())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
    frozen = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert int(frozen.stdout.strip()) > 50_000


@pytest.mark.django_db(transaction=True)
def test_the_served_application_refuses_a_chunked_body_over_its_paths_limit(asgi_server):
    # Given the real ASGI application, and a client streaming a body with no Content-Length
    # to the 1 MiB single-transaction endpoint, 256 KiB at a time, up to 17 MiB
    host, port = asgi_server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/api/v1/transactions/")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    chunk = b"x" * 256 * 1024
    sent = 0
    try:
        while sent < 17 * 2**20:
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
    except OSError:
        pass  # the server answered and closed: the rest was never read

    # When the answer comes
    response = connection.getresponse()

    # Then it is 413 for that path's limit, before anything like 17 MiB went in
    assert response.status == 413
    assert "1,048,576-byte limit" in json.loads(response.read())["error"]["message"]
    assert sent < 17 * 2**20
    connection.close()
