"""GET /healthz: what a load balancer or an operator sees of the services Sentinel needs."""

from __future__ import annotations

import socket

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from sentinel import health

URL = "/healthz"

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_unreachable(monkeypatch):
    """The Redis check talks to a port where no server runs; the broker keeps its own URL."""
    # No retries: redis-py's default backoff would only make the test wait about 4 s.
    dead = redis.Redis(host="127.0.0.1", port=closed_port(), retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr(health, "get_redis", lambda: dead)


def test_all_services_up_answers_200_without_authentication(client):
    # Given PostgreSQL, Redis and the Celery broker are all running, and no credentials
    # When a load balancer probes the health endpoint
    response = client.get(URL)

    # Then every part reports "ok"
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok", "broker": "ok"}


def test_health_answers_are_never_cached(client):
    # Given a proxy between the prober and Sentinel
    # When the health endpoint answers
    response = client.get(URL)

    # Then it tells the proxy not to serve a stale answer later
    assert "no-cache" in response["Cache-Control"]


def test_unreachable_redis_answers_503_naming_redis(client, redis_unreachable):
    # Given Redis does not answer
    # When the health endpoint is probed
    response = client.get(URL)

    # Then it answers 503, names Redis as the failing part, and the others stay healthy
    assert response.status_code == 503
    report = response.json()
    assert set(report) == {"database", "redis", "broker"}
    assert report["redis"] != "ok"
    assert "Connection" in report["redis"]
    assert report["database"] == "ok"
    assert report["broker"] == "ok"


def test_a_failing_check_is_reported_by_name(client, monkeypatch):
    # Given the broker check fails
    def broker_down() -> None:
        raise ConnectionRefusedError("broker gone")

    monkeypatch.setitem(health.CHECKS, "broker", broker_down)

    # When the health endpoint is probed
    response = client.get(URL)

    # Then the failure and its reason are in the answer (the test client is on the loopback,
    # which may scrape /metrics while no metrics token is set)
    assert response.status_code == 503
    assert response.json() == {
        "database": "ok",
        "redis": "ok",
        "broker": "error: ConnectionRefusedError: broker gone",
    }


def test_post_is_not_allowed(client):
    # Given the health endpoint is read-only
    # When something POSTs to it
    response = client.post(URL)

    # Then it answers 405 and says GET is the method to use
    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_the_public_learns_which_part_fails_but_never_why(client, monkeypatch):
    # Given the broker check fails with a message naming an internal host and user
    def broker_down() -> None:
        raise ConnectionRefusedError("amqp://sentinel:hunter2@10.0.3.7:5672 refused")

    monkeypatch.setitem(health.CHECKS, "broker", broker_down)

    # When a client off the loopback probes the health endpoint
    response = client.get(URL, REMOTE_ADDR="203.0.113.9")

    # Then it names the broker as failing and says nothing more
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "ok", "broker": "error"}
    assert b"10.0.3.7" not in response.content


def test_holders_of_the_metrics_token_get_the_reason(client, monkeypatch, settings):
    # Given a metrics token is configured (production), and the broker fails
    settings.SENTINEL_METRICS_TOKEN = "t" * 32
    monkeypatch.setitem(health.CHECKS, "broker", lambda: (_ for _ in ()).throw(OSError("gone")))

    # When a loopback client without the token and an operator with it probe
    anonymous = client.get(URL)
    operator = client.get(URL, HTTP_AUTHORIZATION="Bearer " + "t" * 32, REMOTE_ADDR="10.0.0.5")

    # Then only the operator sees why
    assert anonymous.json()["broker"] == "error"
    assert operator.json()["broker"] == "error: OSError: gone"
