"""Keys too big for one Redis call: read in pages, swept on the worker.

The store's Lua script reads a key's members over the span its events need and sweeps them in
Redis, which blocks every other client while it runs: about 3 µs per member here. A key whose
span holds more members than the read budget (an account with hundreds of transactions a day
asked for a 35-day look-back, a merchant counterparty) would make that one call long in
proportion to its size, however the batch is split. Such a key is read here in pages of at
most the budget (each page one ZRANGEBYSCORE, O(log n + page) in Redis and no script), and
its specs are swept on the worker with the script's semantics, answering in the script's
encoding so that decoding is shared (``store._decode``). Paged reads are not one snapshot: an
event a concurrent writer adds between pages may be seen or not, as by the next batch.

The sweeps mirror ``store.lua`` one for one (same names); ``test_aggregates_paged`` holds the
two equal on random histories, and both equal to the SQL reference.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

SEPARATOR = "\x1f"
# Positions in a member split on the separator (the script's positions less one: it skips the
# id): id, amount, currency, type, direction, status, channel, counterparty, ...
AMOUNT, CURRENCY, TYPE, DIRECTION, STATUS, CHANNEL, COUNTERPARTY = 1, 2, 3, 4, 5, 6, 7


@dataclass(frozen=True)
class Job:
    """One event asking for one spec on the key: its time, currency and output slot."""

    t: int
    currency: str
    slot: int


@dataclass(frozen=True)
class PagedSpec:
    """A spec as the script reads it (``store._spec_row``), for the sweeps here."""

    function: str
    reach: int
    window: int
    field: int  # the distinct field's position in the script's numbering, else 0
    types: frozenset[str] | None
    directions: frozenset[str] | None
    statuses: frozenset[str] | None
    channels: frozenset[str] | None
    base: bool = False  # over amount_base: every currency's figure

    @classmethod
    def from_row(cls, row: Sequence) -> PagedSpec:
        function, _kind, reach, window, field, types, directions, statuses, channels, base = row
        return cls(
            function,
            reach,
            window,
            field,
            *(frozenset(values) or None for values in (types, directions, statuses, channels)),
            base=base == 1,
        )

    @property
    def any(self) -> bool:
        return not (self.types or self.directions or self.statuses or self.channels)

    def matches(self, fields: list[str]) -> bool:
        return (
            (self.types is None or fields[TYPE] in self.types)
            and (self.directions is None or fields[DIRECTION] in self.directions)
            and (self.statuses is None or fields[STATUS] in self.statuses)
            and (self.channels is None or fields[CHANNEL] in self.channels)
        )


@dataclass
class Members:
    """A key's members over (floor, ceiling], in score order, split into fields."""

    scores: list[int]
    fields: list[list[str]]
    floor: int


def compute_key(
    client, key: str, jobs: Sequence[tuple[PagedSpec, list[Job]]], page: int
) -> Iterator[tuple[int, str]]:
    """(slot, value in the script's encoding) for every job of every spec on ``key``.

    ``jobs`` pairs each spec of the key's kind with the events asking for it, in time order.
    """
    floor = min(items[0].t - max(spec.reach, 1) for spec, items in jobs)
    ceiling = max(items[-1].t for _, items in jobs)
    members = read_pages(client, key, floor, ceiling, page)
    for spec, items in jobs:
        if spec.function == "days_since_previous":
            yield from _days_since_previous(client, key, members, spec, items, page)
        elif spec.function == "new_counterparties":
            yield from _new_counterparties(members, spec, items)
        else:
            yield from _slide(WINDOW_FUNCTIONS[spec.function](spec), members, spec, items)


def read_pages(client, key: str, floor: int, ceiling: int, page: int) -> Members:
    """The members in (floor, ceiling], ``page`` at most per call.

    Pages continue from the last (score, member) read: members of equal score come in byte
    order, so those at the last score that were read already are skipped, not counted by rank
    (a member added meanwhile would shift ranks).
    """
    scores: list[int] = []
    fields: list[list[str]] = []
    low, last, skip = f"({floor}", None, 0
    while True:
        rows = client.zrangebyscore(key, low, ceiling, start=skip, num=page, withscores=True)
        fresh = 0
        for member, score in rows:
            score = int(score)
            if last is not None and (score, member) <= last:
                continue
            scores.append(score)
            fields.append(_text(member).split(SEPARATOR))
            last, fresh = (score, member), fresh + 1
        if len(rows) < page:
            return Members(scores, fields, floor)
        # A full page of members at one score that were all read: look further along it.
        skip = skip + page if fresh == 0 else 0
        low = str(last[0])


def _text(member) -> str:
    return member.decode() if isinstance(member, bytes) else member


# --- Window functions (the script's ``window_functions``) -----------------------------------


class _Count:
    def __init__(self, spec: PagedSpec):
        self.c = 0

    def enter(self, fields, x):
        self.c += 1

    def leave(self, fields, x):
        self.c -= 1

    def value(self, job: Job) -> str:
        return str(self.c)


def _every_currency(figures: dict[str, str | None]) -> str:
    """Over amount_base: each currency's figure, for the caller to convert."""
    return "~" + "|".join(
        f"{currency}:{figure}" for currency, figure in figures.items() if figure is not None
    )


class _Sums:
    """Per currency: the sum of minor units and the count."""

    def __init__(self, spec: PagedSpec):
        self.base = spec.base
        self.totals: dict[str, list[int]] = {}

    def every_currency(self) -> str:
        return _every_currency(
            {
                currency: f"0,{total},{count}" if count else None
                for currency, (total, count) in self.totals.items()
            }
        )

    def enter(self, fields, x):
        total = self.totals.setdefault(fields[CURRENCY], [0, 0])
        total[0] += int(fields[AMOUNT])
        total[1] += 1

    def leave(self, fields, x):
        total = self.totals[fields[CURRENCY]]
        total[0] -= int(fields[AMOUNT])
        total[1] -= 1


class _Sum(_Sums):
    def value(self, job: Job) -> str:
        if self.base:
            return self.every_currency()
        total = self.totals.get(job.currency)
        return "0,0" if total is None else f"0,{total[0]}"


class _Avg(_Sums):
    def value(self, job: Job) -> str:
        if self.base:
            return self.every_currency()
        total = self.totals.get(job.currency)
        return "" if total is None or total[1] == 0 else f"0,{total[0]},{total[1]}"


class _Extreme:
    """The largest (sign 1) or smallest (sign -1) amount per currency: a queue of (amount,
    index) whose amounts decrease (for max) from head to tail; the head is the answer."""

    sign = 1

    def __init__(self, spec: PagedSpec):
        self.base = spec.base
        self.queues: dict[str, deque[tuple[int, int]]] = {}

    def enter(self, fields, x):
        queue = self.queues.setdefault(fields[CURRENCY], deque())
        signed = int(fields[AMOUNT]) * self.sign
        while queue and queue[-1][0] <= signed:
            queue.pop()
        queue.append((signed, x))

    def leave(self, fields, x):
        queue = self.queues[fields[CURRENCY]]
        if queue and queue[0][1] == x:
            queue.popleft()

    def value(self, job: Job) -> str:
        if self.base:
            return _every_currency(
                {
                    currency: str(queue[0][0] * self.sign) if queue else None
                    for currency, queue in self.queues.items()
                }
            )
        queue = self.queues.get(job.currency)
        return str(queue[0][0] * self.sign) if queue else ""


class _Max(_Extreme):
    sign = 1


class _Min(_Extreme):
    sign = -1


class _Distinct:
    def __init__(self, spec: PagedSpec):
        self.position = spec.field - 1
        self.seen: dict[str, int] = {}
        self.c = 0

    def enter(self, fields, x):
        value = fields[self.position]
        if value:
            times = self.seen.get(value, 0) + 1
            self.seen[value] = times
            if times == 1:
                self.c += 1

    def leave(self, fields, x):
        value = fields[self.position]
        if value:
            times = self.seen[value] - 1
            self.seen[value] = times
            if times == 0:
                self.c -= 1

    def value(self, job: Job) -> str:
        return str(self.c)


WINDOW_FUNCTIONS = {
    "count": _Count,
    "sum": _Sum,
    "avg": _Avg,
    "max": _Max,
    "min": _Min,
    "distinct": _Distinct,
}


def _slide(state, members: Members, spec: PagedSpec, jobs: list[Job]) -> Iterator[tuple[int, str]]:
    """Members enter the window as its end passes them (score <= t) and leave as its start
    does (score <= t - window), in index order; each job is answered from the running state."""
    scores, fields, n, window = members.scores, members.fields, len(members.scores), spec.window
    match = spec.any or spec.matches
    top = bisect_right(scores, jobs[0].t - window)
    bottom, matched = top, set()
    for job in jobs:
        t = job.t
        while top < n and scores[top] <= t:
            if match is True or match(fields[top]):
                matched.add(top)
                state.enter(fields[top], top)
            top += 1
        edge = t - window
        while bottom < top and scores[bottom] <= edge:
            if bottom in matched:
                state.leave(fields[bottom], bottom)
            bottom += 1
        yield job.slot, state.value(job)


def _new_counterparties(
    members: Members, spec: PagedSpec, jobs: list[Job]
) -> Iterator[tuple[int, str]]:
    """A counterparty is new at t when it appears (matching) in (t - window, t] and not in the
    older part of the look-back (t - reach, t - window]."""
    scores, fields, n = members.scores, members.fields, len(members.scores)
    window, reach = spec.window, spec.reach
    match = spec.any or spec.matches
    top = bisect_right(scores, jobs[0].t - reach)
    middle = bottom = top
    inside: dict[str, int] = {}
    older: dict[str, int] = {}
    matched: dict[int, str] = {}
    c = 0
    for job in jobs:
        t = job.t
        while top < n and scores[top] <= t:
            value = fields[top][COUNTERPARTY]
            if value and (match is True or match(fields[top])):
                matched[top] = value
                times = inside.get(value, 0) + 1
                inside[value] = times
                if times == 1 and not older.get(value):
                    c += 1
            top += 1
        edge = t - window
        while middle < top and scores[middle] <= edge:
            value = matched.get(middle)
            if value:
                before = older.get(value, 0)
                inside[value] -= 1
                older[value] = before + 1
                if before == 0:
                    c -= 1  # it was in the window and not older; now it is older
            middle += 1
        horizon = t - reach
        while bottom < middle and scores[bottom] <= horizon:
            value = matched.get(bottom)
            if value:
                before = older[value] - 1
                older[value] = before
                if before == 0 and inside.get(value, 0) > 0:
                    c += 1
            bottom += 1
        yield job.slot, str(c)


def _days_since_previous(
    client, key: str, members: Members, spec: PagedSpec, jobs: list[Job], page: int
) -> Iterator[tuple[int, str]]:
    """The latest matching member strictly before t: the last one passed, else the latest at
    or below the read's floor (paged down once for all the key's jobs)."""
    scores, fields, n = members.scores, members.fields, len(members.scores)
    x, latest, below = 0, None, False
    for job in jobs:
        t = job.t
        while x < n and scores[x] < t:
            if spec.any or spec.matches(fields[x]):
                latest = scores[x]
            x += 1
        previous = latest
        if previous is None:
            if below is False:
                below = _latest_below(client, key, spec, members.floor, t, page)
            previous = below
        yield job.slot, "" if previous is None else str(t - previous)


def _latest_below(client, key: str, spec: PagedSpec, below: int, t: int, page: int) -> int | None:
    offset, size = 0, 10  # a short first page: without filters its first member answers
    while True:
        rows = client.zrevrangebyscore(key, below, "-inf", start=offset, num=size, withscores=True)
        if not rows:
            return None
        for member, score in rows:
            if score < t and spec.matches(_text(member).split(SEPARATOR)):
                return int(score)
        offset, size = offset + len(rows), page
