"""Sending to the channel layer from synchronous code (sentinel.live)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers

from sentinel import live

GROUP = "sentinel-tests-live"


def _own_layer():
    """A channel layer of the test's own to listen on: the process's shared one may still hold
    a receive begun on another test's event loop (a consumer under test), which channels_redis
    refuses to mix with a new loop. Sending still goes through the shared one, as in
    production."""
    return channel_layers.make_backend("default")


@pytest.fixture
def listener():
    layer = _own_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(GROUP, channel)
    yield layer, channel
    async_to_sync(layer.group_discard)(GROUP, channel)


def test_messages_arrive_in_order_over_one_loop_per_process(listener):
    layer, channel = listener
    live.group_send_all([(GROUP, {"type": "t", "n": 1}), (GROUP, {"type": "t", "n": 2})])
    loop = live._background_loop()
    live.group_send_all([(GROUP, {"type": "t", "n": 3})])

    assert live._background_loop() is loop  # reused, so are the layer's connections

    async def receive_three():
        return [(await layer.receive(channel))["n"] for _ in range(3)]

    assert async_to_sync(receive_three)() == [1, 2, 3]


def test_nothing_to_send_starts_nothing(monkeypatch):
    monkeypatch.setattr(live, "_background_loop", lambda: pytest.fail("no loop needed"))
    live.group_send_all([])


def test_a_layer_that_does_not_answer_in_time_is_an_error(monkeypatch):
    async def never(messages):
        import asyncio

        await asyncio.sleep(10)

    monkeypatch.setattr(live, "_send_all", never)
    monkeypatch.setattr(live, "SEND_TIMEOUT_SECONDS", 0.1)
    with pytest.raises(TimeoutError):
        live.group_send_all([(GROUP, {"type": "t"})])


def test_the_live_feed_is_one_group_per_deployment(settings):
    settings.SENTINEL_REDIS_PREFIX = "bank-a:prod"
    assert live.live_feed_group() == "bank-a.prod.alerts"  # channel groups refuse ":"


def test_a_broadcast_reaches_the_live_feed_in_order_a_hundred_frames_a_message(monkeypatch):
    # Given a connection on the live feed
    layer = _own_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.live_feed_group(), channel)
    try:
        # When 150 frames are broadcast
        live.broadcast([{"type": "t", "n": n} for n in range(150)])

        async def receive_two():
            return [await layer.receive(channel) for _ in range(2)]

        first, second = async_to_sync(receive_two)()
    finally:
        async_to_sync(layer.group_discard)(live.live_feed_group(), channel)

    # Then they arrive as two relay messages, in order
    assert first["type"] == second["type"] == "frames.message"
    assert [frame["n"] for frame in first["frames"]] == list(range(100))
    assert [frame["n"] for frame in second["frames"]] == list(range(100, 150))


def test_broadcasting_nothing_sends_nothing(monkeypatch):
    monkeypatch.setattr(live, "_background_loop", lambda: pytest.fail("nothing to send"))
    live.broadcast([])
