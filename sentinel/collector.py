"""The garbage collector in the long-running processes (the Celery worker's pool processes,
the ASGI server): what they freeze once loaded, and how often the young generation is
collected."""

from __future__ import annotations

import gc

# The young generation is collected after this many net allocations of containers, not
# CPython's 700. Scoring a transaction makes thousands of short-lived ones (a party's tokens
# and matches, the rules' fields), so at 700 the collector ran several times per transaction,
# and every tenth young collection was followed by an older one that walks the long-lived
# caches (screening's results and pairs). bench/screening.py, three runs each way on the
# 2-core box: -5 to -12 % of CPU per transaction with new parties, -3 to -9 % once 30,000 more
# went by. Memory: at most this many objects more wait for the collector.
YOUNG_THRESHOLD = 10_000


def collector_tune() -> None:
    """Collect the young generation every ``YOUNG_THRESHOLD`` allocations (the older
    generations keep their ratios to it)."""
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def collector_settle() -> None:
    """Freeze what the process has loaded out of the collector's sight (it lives as long as
    the process: a full collection then walks only what work made since), and tune it."""
    gc.freeze()
    collector_tune()
