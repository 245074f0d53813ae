"""Time-ordered UUIDs (RFC 9562 version 7) for primary keys created before the INSERT.

Ids are generated in the application so an idempotent insert can tell its own row from one a
concurrent request stored first; time ordering keeps the primary-key index append-mostly.
"""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = rand >> 68  # 12 bits
    rand_b = rand & ((1 << 62) - 1)
    value = (unix_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def uuid7_time(value: uuid.UUID) -> float:
    """When a uuid7 was made, in Unix seconds (millisecond precision)."""
    return (value.int >> 80) / 1000
