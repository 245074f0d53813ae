"""Sending to the channel layer from synchronous code: services after a commit, workers.

``async_to_sync(layer.group_send)`` called from a plain thread runs each call on a new event
loop, and channels_redis keeps its Redis connections per loop: every message opened (and
dropped) a connection, about 35 ms each on the worker. Here every process keeps one event
loop on a daemon thread for its lifetime (a forked child starts its own), so the layer's
connections are reused, and all the messages of one commit travel in one hand-over.

``broadcast`` is the staff live feed: one group per deployment that every staff browser's
websocket joins (``ws/alerts/``, alerts.consumers.LiveFeedConsumer); alerts, cases and the
operational monitor send their frames through it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Sequence

from channels.layers import get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

# How long a caller waits for its messages to reach the layer before giving up (browsers
# then catch up from the database when they reconnect).
SEND_TIMEOUT_SECONDS = 5.0
# Frames per channel-layer message: the layer costs a few Redis round trips per message,
# whatever it carries.
FRAMES_PER_MESSAGE = 100

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def live_feed_group() -> str:
    """The group every staff connection of the live feed joins (one per deployment)."""
    prefix = getattr(settings, "SENTINEL_REDIS_PREFIX", "sentinel")
    return f"{prefix}.alerts".replace(":", ".")


def broadcast(frames: Sequence[dict]) -> None:
    """Send websocket frames to every connected staff browser, in order; the consumer relays
    each frame of a ``frames.message`` as it is. Raises like ``group_send_all``."""
    group = live_feed_group()
    group_send_all(
        [
            (group, {"type": "frames.message", "frames": list(frames[i : i + FRAMES_PER_MESSAGE])})
            for i in range(0, len(frames), FRAMES_PER_MESSAGE)
        ]
    )


def group_send_all(messages: Sequence[tuple[str, dict]]) -> None:
    """Send ``(group, message)`` pairs in order; raises if the layer cannot be reached in
    time (callers run after the commit with ``on_commit(robust=True)``, which logs it)."""
    if not messages:
        return
    future = asyncio.run_coroutine_threadsafe(_send_all(list(messages)), _background_loop())
    try:
        future.result(SEND_TIMEOUT_SECONDS)
    except TimeoutError:
        future.cancel()
        raise


async def _send_all(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    for group, message in messages:
        await layer.group_send(group, message)


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        if _loop is None or _loop_pid != os.getpid():
            _loop, _loop_pid = asyncio.new_event_loop(), os.getpid()
            threading.Thread(
                target=_loop.run_forever, name="channel-layer-sender", daemon=True
            ).start()
        return _loop
