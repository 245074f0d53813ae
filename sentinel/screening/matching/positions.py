# cython: annotation_typing=True, boundscheck=False, wraparound=False, initializedcheck=False
"""The candidates a query's blocks retrieve, in one pass over their positions.

A block is the positions (sorted ``int32`` arrays, one per block key) filed under a query
token's keys. A candidate is a position two blocks of disjoint tokens share, or, for a query of
one name word, a one-word name in any block. Compiled by Cython (``make``), the positions are
stamped in an array as long as the index and read back, each once, with no Python object per
position: about a microsecond for a few thousand positions, where the same work in numpy (merge,
sort, search, filter, a dozen calls) cost a query some 20 microseconds, most of it the calls
themselves. Run as plain Python (no C compiler), ``shared_positions`` does the same work
through numpy instead (``_shared_numpy``), to the same answer.
"""

from __future__ import annotations

from itertools import chain

import numpy as np

try:
    import cython  # the build's tool (compile.py): absent, nothing here is compiled either
except ImportError:
    COMPILED = False
else:
    COMPILED = cython.compiled

_NOTHING = np.empty(0, dtype=np.int32)


class Stamps:
    """Scratch arrays as long as the index, one stamp per position: a position is "seen" or
    "taken" in the current pass when its stamp is the pass's number, so nothing is cleared
    between passes. One per index; used under the GIL (a pass holds it throughout)."""

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


def shared_positions(
    blocks: list[tuple[int, list]], one_word: np.ndarray, query_one_word: bool, stamps: Stamps
) -> list[int]:
    """Sorted positions shared by two blocks whose covers (bit sets of the query tokens a
    block stands for) are disjoint; with ``query_one_word``, also every one-word position of
    any block. ``blocks``: (covers, parts), parts the block's sorted position arrays."""
    return _SHARED(blocks, one_word, query_one_word, stamps)


def _shared_stamped(
    blocks: list, one_word: np.ndarray, query_one_word: cython.bint, stamps: Stamps
) -> list:
    seen: cython.uint[::1] = stamps.seen
    taken: cython.uint[::1] = stamps.taken
    single: cython.uchar[::1] = one_word.view(np.uint8)
    part: cython.int[::1]
    found: list = []
    pass_number: cython.uint = stamps.next()
    mark: cython.uint
    position: cython.int
    count: cython.Py_ssize_t = len(blocks)
    i: cython.Py_ssize_t
    j: cython.Py_ssize_t
    k: cython.Py_ssize_t
    for i in range(count):
        covers, parts = blocks[i]
        if query_one_word:  # its one-word names
            for part in parts:
                for k in range(part.shape[0]):
                    position = part[k]
                    if single[position] and taken[position] != pass_number:
                        taken[position] = pass_number
                        found.append(position)
        for j in range(i + 1, count):
            other_covers, other_parts = blocks[j]
            if covers & other_covers:
                continue
            mark = stamps.next()  # this block's positions, then the other's that it holds
            for part in parts:
                for k in range(part.shape[0]):
                    seen[part[k]] = mark
            for part in other_parts:
                for k in range(part.shape[0]):
                    position = part[k]
                    if seen[position] == mark and taken[position] != pass_number:
                        taken[position] = pass_number
                        found.append(position)
    found.sort()
    return found


class Rows:
    """Each listed name's vocabulary ids (its weighing tokens', in order), one after the other
    in one array, and where each name's start: what the pre-filter reads of every candidate
    (``ids_among``, ``holding``) is read by compiled loops, not gathered tuple by tuple from
    objects spread over the heap."""

    def __init__(self, rows: list[tuple[int, ...]]):
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        self.starts = np.zeros(len(rows) + 1, dtype=np.int32)
        np.cumsum(lengths, out=self.starts[1:], dtype=np.int32)
        self.ids = np.fromiter(chain.from_iterable(rows), dtype=np.int32, count=int(lengths.sum()))


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


def _ids_among_numpy(candidates: list[int], rows: Rows, stamps: Stamps | None = None) -> list:
    if not candidates:
        return []
    ids, starts = rows.ids, rows.starts
    return list(set(np.concatenate([ids[starts[p] : starts[p + 1]] for p in candidates]).tolist()))


def _holding_numpy(
    candidates: list[int], rows: Rows, wanted: set[int], stamps: Stamps | None = None
) -> list[int]:
    ids, starts = rows.ids, rows.starts
    names = [(p, tuple(ids[starts[p] : starts[p + 1]].tolist())) for p in candidates]
    return [(p, held) for p, held in names if not wanted.isdisjoint(held)]


def _shared_numpy(
    blocks: list, one_word: np.ndarray, query_one_word: bool, stamps: Stamps | None = None
) -> list[int]:
    shared = []
    for i, (covers, parts) in enumerate(blocks):
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
            shared += [part.compress(marked.take(part)) for part in other_parts]
    if not shared:
        return []
    return sorted(set(np.concatenate(shared).tolist()))


_SHARED = _shared_stamped if COMPILED else _shared_numpy
_IDS_AMONG = _ids_among_stamped if COMPILED else _ids_among_numpy
_HOLDING = _holding_stamped if COMPILED else _holding_numpy
