"""Helpers the test suites of several apps share (tests only; nothing in the product uses them)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_concurrently(count: int, work: Callable[[], object]) -> list:
    """Start ``count`` threads that call ``work()`` at the same instant; their results, in
    order. Each thread closes its own database connection when done."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work()
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
