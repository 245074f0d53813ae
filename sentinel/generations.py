"""A value each process loads once and reloads when another process changed it.

The pattern of the running rules (rules.engine), the learned models (riskmodel.scoring) and the
screening index (screening.runtime), as one class: a change bumps a Redis generation counter
after its transaction commits; a process looks at the counter at most every
``CHECK_SECONDS`` and reloads when it moved, so no restart is needed and the hot path pays one
Redis GET per half second, not a database query per transaction. Without Redis it reloads on
every look rather than trust a stale value.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import transaction as db_transaction

from sentinel.redis import get_redis, redis_key

logger = logging.getLogger(__name__)
T = TypeVar("T")

CHECK_SECONDS = 0.5


class Generational(Generic[T]):
    """``load()``'s value, cached per process under the generation counter ``name``."""

    def __init__(self, name: str, load: Callable[[], T]) -> None:
        self.name, self.load = name, load
        self._lock = threading.Lock()
        self._value: T | None = None
        self._generation: bytes | None = None
        self._checked = 0.0

    def get(self) -> T:
        now = time.monotonic()
        value = self._value
        if value is not None and now - self._checked < CHECK_SECONDS:
            return value
        generation = self._current_generation()
        with self._lock:
            if value is None or generation is None or generation != self._generation:
                value = self._value = self.load()
                self._generation = generation
            self._checked = now
        return value

    def forget(self) -> None:
        """Drop this process's value; the next ``get`` loads it (tests, after a change)."""
        self._value = self._generation = None

    def changed(self) -> None:
        """Call inside the transaction that changed what ``load`` reads: after it commits,
        every process reloads within ``CHECK_SECONDS``."""
        db_transaction.on_commit(self._bump, robust=True)

    def _bump(self) -> None:
        self._value = None
        get_redis().incr(redis_key(self.name, "generation"))

    def _current_generation(self) -> bytes | None:
        try:
            return get_redis().get(redis_key(self.name, "generation")) or b"0"
        except Exception:  # noqa: BLE001  without Redis, reload rather than trust a stale value
            logger.warning("%s generation unavailable; reloading from the database.", self.name)
            return None
