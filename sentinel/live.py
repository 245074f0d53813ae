"""Sending to the channel layer from synchronous code: services after a commit, workers.

``async_to_sync(layer.group_send)`` called from a plain thread runs each call on a new event
loop, and channels_redis keeps its Redis connections per loop: every message opened (and
dropped) a connection, about 35 ms each on the worker. Here every process keeps one event
loop on a daemon thread for its lifetime (a forked child starts its own), so the layer's
connections are reused, and all the messages of one commit travel in one hand-over.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Sequence

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# How long a caller waits for its messages to reach the layer before giving up (browsers
# then catch up from the database when they reconnect).
SEND_TIMEOUT_SECONDS = 5.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


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
