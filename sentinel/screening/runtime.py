"""This process's screening index, rebuilt when a list changes anywhere.

As with the running rules (rules.engine), a change bumps a Redis generation counter after
commit; a process looks at it at most every ``GENERATION_CHECK_SECONDS`` and rebuilds its index
when it moved. Building reads every name in force once (about 4 s of CPU for 50,000 entries).
"""

from __future__ import annotations

import gc
import logging
import threading
import time

from django.db import transaction as db_transaction

from sentinel.redis import get_redis, redis_key

from .matching.index import ScreeningIndex
from .selectors import false_positive_pairs, listed_names

logger = logging.getLogger(__name__)
GENERATION_CHECK_SECONDS = 0.5
# Smaller indexes (tests, a first list) are left in the collector's sight: too few objects to
# matter, and freezing needs a full collection first.
FREEZE_FROM_NAMES = 10_000
_lock = threading.Lock()
_state: dict[str, object] = {"index": None, "generation": None, "checked": 0.0}


def current_index() -> ScreeningIndex:
    now = time.monotonic()
    index = _state["index"]
    if index is not None and now - _state["checked"] < GENERATION_CHECK_SECONDS:
        return index
    generation = _generation()
    with _lock:
        if index is None or generation is None or generation != _state["generation"]:
            index = _state["index"] = ScreeningIndex(
                listed_names(), false_positives=false_positive_pairs()
            )
            _state["generation"] = generation
            index_settle(index)
        _state["checked"] = now
    return index


def index_settle(index: ScreeningIndex) -> None:
    """Freeze a large index out of the garbage collector's sight (``gc.freeze``).

    50,000 entries are some 800,000 objects that live as long as the index, and every full
    collection walked them all: 0.5-0.6 s of CPU each in bench.screening, as often as the
    caches grow by a quarter of everything in sight. Frozen, a full collection walks only what
    was made since (0.1 s). The process froze what it loaded at start-up already (celery.py,
    asgi.py); this adds the index. A replaced index is still freed at once: it holds no
    reference cycle (``matching.index.Recent``), so reference counting frees it, frozen or not.
    The collection first keeps the build's garbage cycles out of the frozen generation."""
    if len(index) >= FREEZE_FROM_NAMES:
        gc.collect()
        gc.freeze()


def forget() -> None:
    """Drop this process's index (tests)."""
    _state["index"] = None
    _state["generation"] = None


def lists_changed() -> None:
    """Call inside the transaction that changed entries in force."""
    db_transaction.on_commit(_bump_generation, robust=True)


def _bump_generation() -> None:
    _state["index"] = None
    get_redis().incr(redis_key("screening", "generation"))


def _generation() -> bytes | None:
    try:
        return get_redis().get(redis_key("screening", "generation")) or b"0"
    except Exception:  # noqa: BLE001  without Redis, rebuild rather than screen stale lists
        logger.warning("Screening generation unavailable; rebuilding the index.")
        return None
