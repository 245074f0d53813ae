"""``WS /ws/alerts/``: who may connect, what arrives live, and what a reconnect catches up on."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db import transaction as db_transaction
from django.test import Client

from alerts import services
from alerts.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from alerts.models import Alert
from sentinel.asgi import application
from transactions.tests.factories import PartnerBankFactory

from .test_services import _pay, _rule, ingest_and_score, investigator, staff

# The consumer reads sessions and alerts from another thread: committed data only.
pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1")


async def _elsewhere(work):
    """Run ORM work on another thread, as a worker would, closing its connection after (an
    open one would keep the test database from being dropped at the end of the run)."""

    def run():
        try:
            return work()
        finally:
            connection.close()

    return await asyncio.get_running_loop().run_in_executor(None, run)


def _cookie_for(user: User | None) -> list[tuple[bytes, bytes]]:
    if user is None:
        return [ORIGIN]
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())]


class Socket(ApplicationCommunicator):
    """A websocket client speaking ASGI to the real application (channels.testing's
    communicator needs daphne, which Sentinel does not use)."""

    def __init__(self, path: str, headers):
        route, _, query = path.partition("?")
        scope = {
            "type": "websocket",
            "path": route,
            "query_string": query.encode(),
            "headers": headers,
            "subprotocols": [],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        super().__init__(application, scope)

    async def connect(self) -> bool:
        await self.send_input({"type": "websocket.connect"})
        return (await self.receive_output(5))["type"] == "websocket.accept"

    async def receive_json_from(self, timeout: float) -> dict:
        message = await self.receive_output(timeout)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(2)


async def _connect(headers, path: str = "/ws/alerts/"):
    communicator = Socket(path, headers)
    return communicator, await communicator.connect()


@async_to_sync
async def _closing_code(headers) -> int:
    communicator, connected = await _connect(headers)
    assert connected
    message = await communicator.receive_output(timeout=5)
    await communicator.wait()
    return message["code"]


def test_an_anonymous_connection_is_closed_with_4401():
    assert _closing_code(_cookie_for(None)) == CLOSE_UNAUTHENTICATED


def test_staff_without_the_alert_permission_are_closed_with_4403():
    assert _closing_code(_cookie_for(staff())) == CLOSE_FORBIDDEN


def test_an_investigator_receives_a_new_alert_after_the_commit():
    headers = _cookie_for(investigator())
    partner = PartnerBankFactory()
    _rule(expression="amount >= 1000", severity="high")

    @async_to_sync
    async def scenario():
        communicator, connected = await _connect(headers)
        assert connected
        # When a transaction hits a live rule (scored by the workers, committed)
        await _elsewhere(lambda: ingest_and_score(partner, _pay(amount="2500.00")))
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return message

    message = scenario()

    # Then the alert arrives with the contract's fields
    alert = Alert.objects.get()
    assert message["type"] == "alert.created"
    body = message["alert"]
    assert body["id"] == alert.pk
    assert body["severity"] == "high"
    assert body["subject"] == {"partner": partner.slug, "account_id": "A1", "customer_id": "C1"}
    assert body["rule"] == alert.rule.code
    assert len(body["transaction_ids"]) == 1
    assert {"score", "case_id", "created_at"} <= set(body)


def test_an_idle_socket_outlives_the_channel_layers_blocking_read():
    # redis-py 8 times reads out after 5 s by default, the length of channels_redis' blocking
    # pop: every quiet investigator was disconnected until the layer's timeout was raised.
    headers = _cookie_for(investigator())
    partner = PartnerBankFactory()
    _rule(expression="amount >= 1000")

    @async_to_sync
    async def scenario():
        communicator, connected = await _connect(headers)
        assert connected
        # Given a socket that hears nothing for longer than one blocking pop
        await asyncio.sleep(6.5)
        assert await communicator.receive_nothing(timeout=0.1)
        # When an alert is raised, it still arrives
        await _elsewhere(lambda: ingest_and_score(partner, _pay(amount="2500.00")))
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return message

    assert scenario()["type"] == "alert.created"


def test_a_dismissal_is_pushed_as_an_update():
    user = investigator()
    headers = _cookie_for(user)
    partner = PartnerBankFactory()
    _rule()
    ingest_and_score(partner, _pay())
    alert = Alert.objects.get()

    @async_to_sync
    async def scenario():
        communicator, _ = await _connect(headers)
        await _elsewhere(lambda: services.alert_dismiss(alert=alert, actor=user, reason="Payroll."))
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return message

    message = scenario()
    assert message["type"] == "alert.updated"
    assert message["alert"]["status"] == "dismissed"


def test_a_reconnecting_browser_receives_what_it_missed():
    headers = _cookie_for(investigator())
    partner = PartnerBankFactory()
    _rule()
    for account in ("A1", "A2", "A3"):
        originator = {"account_id": account, "customer_id": f"C-{account}", "country": "US"}
        ingest_and_score(partner, _pay(originator=originator))
    first, *missed = Alert.objects.order_by("pk")

    @async_to_sync
    async def scenario():
        communicator, _ = await _connect(headers, f"/ws/alerts/?after={first.pk}")
        messages = [await communicator.receive_json_from(timeout=5) for _ in missed]
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return messages

    messages = scenario()
    assert [m["alert"]["id"] for m in messages] == [alert.pk for alert in missed]


def test_a_resume_message_replays_what_was_missed_on_an_open_socket():
    headers = _cookie_for(investigator())
    partner = PartnerBankFactory()
    _rule()
    for account in ("A1", "A2"):
        ingest_and_score(partner, _pay(originator={"account_id": account, "country": "US"}))
    first, second = Alert.objects.order_by("pk")

    @async_to_sync
    async def scenario():
        communicator, _ = await _connect(headers)
        await communicator.send_input(
            {"type": "websocket.receive", "text": json.dumps({"type": "resume", "after": first.pk})}
        )
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return message

    assert scenario()["alert"]["id"] == second.pk


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"text": "not json"}, "invalid_json"),
        ({"text": json.dumps({"type": "subscribe", "all": True})}, "unsupported_message"),
        ({"text": json.dumps([1, 2])}, "unsupported_message"),
        ({"text": json.dumps({"type": "resume", "after": "-3"})}, "invalid_resume"),
        ({"bytes": b"\x00\x01"}, "binary_frame"),
    ],
)
def test_other_messages_get_an_error_frame_and_the_socket_stays_open(frame, code):
    headers = _cookie_for(investigator())
    partner = PartnerBankFactory()
    _rule()

    @async_to_sync
    async def scenario():
        communicator, _ = await _connect(headers)
        await communicator.send_input({"type": "websocket.receive", **frame})
        error = await communicator.receive_json_from(timeout=5)
        # still subscribed: a new alert arrives on the same socket
        await _elsewhere(lambda: ingest_and_score(partner, _pay()))
        alert = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return error, alert

    error, alert = scenario()
    assert error["type"] == "error"
    assert error["error"]["code"] == code
    assert alert["type"] == "alert.created"


def test_an_oversized_frame_closes_the_socket():
    headers = _cookie_for(investigator())

    @async_to_sync
    async def scenario():
        communicator, _ = await _connect(headers)
        await communicator.send_input({"type": "websocket.receive", "text": "x" * 5000})
        return await communicator.receive_output(timeout=5)

    message = scenario()
    assert (message["type"], message["code"]) == ("websocket.close", 1009)


def test_nothing_is_pushed_for_an_alert_that_was_rolled_back():
    headers = _cookie_for(investigator())
    partner = PartnerBankFactory()
    _rule()

    class Abort(Exception):
        pass

    def score_then_roll_back():
        try:
            with db_transaction.atomic():
                ingest_and_score(partner, _pay(amount="2500.00"))
                assert Alert.objects.count() == 1
                raise Abort
        except Abort:
            pass

    @async_to_sync
    async def scenario():
        communicator, _ = await _connect(headers)
        await _elsewhere(score_then_roll_back)
        silent = await communicator.receive_nothing(timeout=1.0)
        await communicator.disconnect()
        return silent

    assert scenario() is True
    assert not Alert.objects.exists()
