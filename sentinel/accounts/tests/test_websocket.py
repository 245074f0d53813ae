"""The live alert feed applies the same session rules as the pages."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import Client

from alerts.consumers import CLOSE_UNAUTHENTICATED
from alerts.tests.test_consumers import ORIGIN, _connect
from sentinel.accounts.signals import SESSION_SEEN

from . import factories as f

# The consumer reads sessions from another thread: committed data only.
pytestmark = pytest.mark.django_db(transaction=True)


def _headers(client: Client) -> list[tuple[bytes, bytes]]:
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())]


async def _outcome(headers) -> str | int:
    communicator, connected = await _connect(headers)
    if not connected:
        return "refused"
    if await communicator.receive_nothing(timeout=1):
        await communicator.disconnect()
        return "open"
    message = await communicator.receive_output(timeout=5)
    if message["type"] == "websocket.close":
        await communicator.wait()
        return message["code"]
    await communicator.disconnect()
    return "open"


def _run(headers):
    return async_to_sync(_outcome)(headers)


def test_an_officer_who_has_not_passed_the_code_is_closed_with_4401():
    officer = f.officer()
    client = Client()
    client.post("/login/", {"username": officer.username, "password": f.PASSWORD})

    assert _run(_headers(client)) == CLOSE_UNAUTHENTICATED


def test_a_verified_officer_stays_connected_and_an_idle_one_is_closed():
    client = Client()
    client.force_login(f.officer())  # password and code passed
    assert _run(_headers(client)) == "open"

    session = client.session
    session[SESSION_SEEN] = int(time.time()) - 31 * 60
    session.save()
    assert _run(_headers(client)) == CLOSE_UNAUTHENTICATED
