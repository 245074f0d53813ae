# cython: annotation_typing=True, boundscheck=False, wraparound=False, initializedcheck=False
"""What a query reads of the index's names, a few thousand positions and ids, read by compiled
loops (Cython's types, ``make``) rather than through numpy calls or Python objects.

Retrieval (``shared_positions``): a block is the positions filed under a query token's keys; a
candidate is a position two blocks of disjoint tokens share, or, for a query of one name word,
a one-word name in any block. The pre-filter (``ids_among``, ``holding``): the vocabulary ids
of the candidates' names. Each pass stamps an array as long as the index (or the vocabulary)
with its own number and reads the stamps back, so nothing is cleared between passes and each
position or id is taken once: about 2 ns a position. The same work in numpy cost a query some
20 µs, most of it a dozen calls' fixed cost, and reading per-name tuples of ints spread over
the heap cost a company's 70 candidates 20 µs of cache misses.

The arrays are held by ``cclass`` objects (``Postings``, ``Rows``, ``Stamps``), typed once
when the index is built: a typed view taken at every call cost a microsecond each. Run as
plain Python (no C compiler), every pass does the same work through numpy (``_*_numpy``), to
the same answer; ``tests/test_retrieval.py`` holds both ways to the rule.
"""

from __future__ import annotations

from itertools import chain

import cython
import numpy as np

COMPILED = cython.compiled


@cython.cclass
class Stamps:
    """Scratch arrays, one stamp per position (or id): "seen" or "taken" in the current pass
    when its stamp is the pass's number. One per index; passes run one at a time (the index
    holds a lock around each: a pass is not interrupted by Python code, but the collector
    may run a finalizer in it)."""

    seen: cython.uint[::1]
    taken: cython.uint[::1]
    number = cython.declare(cython.uint, visibility="public")

    def __init__(self, size: int):
        self.seen = np.zeros(size, dtype=np.uint32)
        self.taken = np.zeros(size, dtype=np.uint32)
        self.number = 0

    def next(self) -> int:
        if self.number >= 4_000_000_000:  # numbers run out: start again from clean arrays
            self.seen[:] = 0
            self.taken[:] = 0
            self.number = 0
        self.number += 1
        return self.number


@cython.cclass
class Postings:
    """The positions filed under each block key, sorted, every key's one after the other in
    one array (``ranges``: key -> (start, end)), and which positions are one-word names."""

    positions: cython.int[::1]
    single: cython.uchar[::1]
    ranges = cython.declare(dict, visibility="readonly")
    array = cython.declare(object, visibility="readonly")  # ``positions``, as numpy
    one_word = cython.declare(object, visibility="readonly")  # ``single``, as numpy booleans

    def __init__(self, postings: dict[str, list[int]], one_word: np.ndarray):
        ranges, at, kept = {}, 0, []
        for key, found in postings.items():
            found = list(dict.fromkeys(found))  # a name files a key once (two tokens may share it)
            ranges[key] = (at, at + len(found))
            kept.append(found)
            at += len(found)
        self.ranges = ranges
        self.array = np.fromiter(chain.from_iterable(kept), np.int32, count=at)
        self.positions = self.array
        self.one_word = one_word
        self.single = one_word.view(np.uint8)


@cython.cclass
class Rows:
    """Each listed name's vocabulary ids (its weighing tokens', in order), one after the other
    in one array, and where each name's start."""

    starts: cython.int[::1]
    ids: cython.int[::1]
    starts_array = cython.declare(object, visibility="readonly")
    ids_array = cython.declare(object, visibility="readonly")

    def __init__(self, rows: list[tuple[int, ...]]):
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        starts = np.zeros(len(rows) + 1, dtype=np.int32)
        np.cumsum(lengths, out=starts[1:], dtype=np.int32)
        ids = np.fromiter(chain.from_iterable(rows), dtype=np.int32, count=int(lengths.sum()))
        self.starts_array, self.ids_array = starts, ids
        self.starts, self.ids = starts, ids


def shared_positions(
    blocks: list[tuple[int, list[tuple[int, int]]]],
    postings: Postings,
    query_one_word: bool,
    stamps: Stamps,
) -> list[int]:
    """Sorted positions shared by two blocks whose covers (bit sets of the query tokens a
    block stands for) are disjoint; with ``query_one_word``, also every one-word position of
    any block. ``blocks``: (covers, parts), parts a block's keys' ranges in ``postings``."""
    return _SHARED(blocks, postings, query_one_word, stamps)


def ids_among(candidates: list[int], rows: Rows, stamps: Stamps) -> list[int]:
    """The distinct vocabulary ids of the candidates' names (``stamps`` as long as the
    vocabulary)."""
    return _IDS_AMONG(candidates, rows, stamps)


def holding(
    candidates: list[int], rows: Rows, wanted: set[int], stamps: Stamps
) -> list[tuple[int, tuple[int, ...]]]:
    """The candidates whose name holds any of the ``wanted`` ids, in their order, each with
    its name's ids."""
    return _HOLDING(candidates, rows, wanted, stamps)


def _shared_stamped(
    blocks: list, postings: Postings, query_one_word: cython.bint, stamps: Stamps
) -> list:
    positions: cython.int[::1] = postings.positions
    single: cython.uchar[::1] = postings.single
    seen: cython.uint[::1] = stamps.seen
    taken: cython.uint[::1] = stamps.taken
    found: list = []
    pass_number: cython.uint = stamps.next()
    mark: cython.uint
    position: cython.int
    start: cython.Py_ssize_t
    end: cython.Py_ssize_t
    count: cython.Py_ssize_t = len(blocks)
    i: cython.Py_ssize_t
    j: cython.Py_ssize_t
    k: cython.Py_ssize_t
    for i in range(count):
        covers, parts = blocks[i]
        if query_one_word:  # its one-word names
            for start, end in parts:
                for k in range(start, end):
                    position = positions[k]
                    if single[position] and taken[position] != pass_number:
                        taken[position] = pass_number
                        found.append(position)
        for j in range(i + 1, count):
            other_covers, other_parts = blocks[j]
            if covers & other_covers:
                continue
            mark = stamps.next()  # this block's positions, then the other's that it holds
            for start, end in parts:
                for k in range(start, end):
                    seen[positions[k]] = mark
            for start, end in other_parts:
                for k in range(start, end):
                    position = positions[k]
                    if seen[position] == mark and taken[position] != pass_number:
                        taken[position] = pass_number
                        found.append(position)
    found.sort()
    return found


def _ids_among_stamped(candidates: list, rows: Rows, stamps: Stamps) -> list:
    starts: cython.int[::1] = rows.starts
    ids: cython.int[::1] = rows.ids
    taken: cython.uint[::1] = stamps.taken
    number: cython.uint = stamps.next()
    found: list = []
    position: cython.int
    k: cython.int
    token: cython.int
    for position in candidates:
        for k in range(starts[position], starts[position + 1]):
            token = ids[k]
            if taken[token] != number:
                taken[token] = number
                found.append(token)
    return found


def _holding_stamped(candidates: list, rows: Rows, wanted: set, stamps: Stamps) -> list:
    starts: cython.int[::1] = rows.starts
    ids: cython.int[::1] = rows.ids
    seen: cython.uint[::1] = stamps.seen
    number: cython.uint = stamps.next()
    found: list = []
    position: cython.int
    k: cython.int
    m: cython.int
    token: cython.int
    for token in wanted:
        seen[token] = number
    for position in candidates:
        for k in range(starts[position], starts[position + 1]):
            if seen[ids[k]] == number:
                row = []
                for m in range(starts[position], starts[position + 1]):
                    row.append(ids[m])
                found.append((position, tuple(row)))
                break
    return found


def _shared_numpy(
    blocks: list, postings: Postings, query_one_word: bool, stamps: Stamps | None = None
) -> list[int]:
    array, one_word = postings.array, postings.one_word
    shared = []
    for i, (covers, parts) in enumerate(blocks):
        parts = [array[start:end] for start, end in parts]
        if query_one_word:
            shared += [part.compress(one_word.take(part)) for part in parts]
        marked = None
        for other_covers, other_parts in blocks[i + 1 :]:
            if covers & other_covers:
                continue
            if marked is None:
                marked = np.zeros(len(one_word), dtype=bool)
                for part in parts:
                    marked[part] = True
            others = [array[start:end] for start, end in other_parts]
            shared += [part.compress(marked.take(part)) for part in others]
    if not shared:
        return []
    return sorted(set(np.concatenate(shared).tolist()))


def _ids_among_numpy(candidates: list[int], rows: Rows, stamps: Stamps | None = None) -> list:
    if not candidates:
        return []
    ids, starts = rows.ids_array, rows.starts_array
    return list(set(np.concatenate([ids[starts[p] : starts[p + 1]] for p in candidates]).tolist()))


def _holding_numpy(
    candidates: list[int], rows: Rows, wanted: set[int], stamps: Stamps | None = None
) -> list[tuple[int, tuple[int, ...]]]:
    ids, starts = rows.ids_array, rows.starts_array
    names = [(p, tuple(ids[starts[p] : starts[p + 1]].tolist())) for p in candidates]
    return [(p, held) for p, held in names if not wanted.isdisjoint(held)]


_SHARED = _shared_stamped if COMPILED else _shared_numpy
_IDS_AMONG = _ids_among_stamped if COMPILED else _ids_among_numpy
_HOLDING = _holding_stamped if COMPILED else _holding_numpy
