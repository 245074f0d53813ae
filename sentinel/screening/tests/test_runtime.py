"""This process's index: a large one frozen out of the collector's sight, and still freed when
replaced (no database)."""

from __future__ import annotations

import gc
import weakref

import pytest

from sentinel.screening import runtime
from sentinel.screening.matching.index import ListedName, Party, ScreeningIndex


def _index(count: int) -> ScreeningIndex:
    return ScreeningIndex(
        ListedName(number, "sdn", "sanctions", "person", f"Name{number} Family{number}", "strong")
        for number in range(count)
    )


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()  # leave the test process's collector as it found it


def test_a_large_index_is_frozen_and_a_replaced_one_freed(monkeypatch, unfrozen):
    monkeypatch.setattr(runtime, "FREEZE_FROM_NAMES", 100)
    first = _index(200)
    first.screen(Party("Name7 Family7"))
    runtime.index_settle(first)
    frozen = gc.get_freeze_count()
    assert frozen > 0
    gone = weakref.ref(first)
    first = _index(200)  # what a rebuild does
    runtime.index_settle(first)
    assert gone() is None
    assert gc.get_freeze_count() <= frozen * 1.1


def test_a_small_index_is_left_to_the_collector(unfrozen):
    gc.unfreeze()
    runtime.index_settle(_index(10))
    assert gc.get_freeze_count() == 0
