"""The searches run from each new transfer, level by level and batched over the whole batch.

Pure code: it asks ``fetch`` for the edges next to a set of nodes (one query per level and
direction for every search of the batch, selectors.transfers_adjacent) and never touches the
database itself, so the tests can also drive it on a hand-built graph.

From a new transfer u → v (amount a, at t), bounded to ``max_hops`` hops:
- **Round trip**: a time-ordered path v → … → u, each hop leaving after the previous one
  arrived, all within ``round_trip_window`` before t: with the new transfer it is a cycle
  (funds that left u come back). Amounts are not compared: cycles change currency and skim.
- **Amount carried**: paths out of v and into u whose every hop carries a's amount within
  ``fee_tolerance``, in any time order over ``horizon`` (the same sum moved hop by hop over
  weeks). Reaching u from v this way is an amount-preserving cycle; otherwise the longest
  such path through the transfer is ``carried_hops``. Two hops in a row that both carry an
  everyday sum (``everyday``: a whole sum under ``everyday_below``) are not followed: people
  choose such sums, so their matching says nothing about the money being the same.
- **Layering chain**: a time-ordered path into u in which each account paid on, within
  ``forward_within`` of being paid, between ``forward_share`` and ``forward_most`` of the value
  it received, compared in one currency (``chain_band``): ``chain_depth`` hops.
- **Value loop**: a path v → … → u of 2 hops or more (a cycle of 3 or more), all within
  ``loop_window`` before t, in any time order and currency (a member pays on before it was
  paid, each hop in another currency), following only hops whose value lies in the band
  around the new transfer's that a loop within ``value_spread`` allows; the network step
  then keeps the loop only when its hops' values, in one currency, stay within
  ``value_spread`` of each other (``value_spread``, services.findings_searched).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from transactions.money import minor_units

OUT, IN = "out", "in"


class Edge(NamedTuple):  # a tuple: thousands are built per batch, cheaply
    id: object  # the transaction's id
    partner_id: int
    source: str
    target: str
    amount: Decimal
    at: datetime
    currency: str = ""  # "" in the pure tests: every hand-built edge shares one currency
    value: Decimal | None = None  # in the partner's reporting currency; None: no rate
    arrival: int | None = None  # its place in the graph's arrival order; None: before any


class Request(NamedTuple):
    """Edges out of (or into) ``node`` with ``since <= at <= until`` and, unless ``lo`` is
    None, ``lo <= amount <= hi`` (in ``currency`` only, when given) or else
    ``value_lo <= value <= value_hi`` (when given): a value band (``Request.admits``); and,
    unless ``arrived_by`` is None, only edges that arrived no later than the one that many
    (the walk's new transfer): the graph as it stood when that transfer arrived, whatever
    else its batch added."""

    partner_id: int
    node: str
    lo: Decimal | None
    hi: Decimal | None
    since: datetime
    until: datetime
    currency: str | None = None
    value_lo: Decimal | None = None
    value_hi: Decimal | None = None
    arrived_by: int | None = None

    def admits(self, edge: Edge) -> bool:
        """Whether ``edge``, next to the node, is one this asks for: what
        selectors.transfers_adjacent's SQL keeps, for the tests' hand-built graphs."""
        if not self.since <= edge.at <= self.until:
            return False
        if not (self.arrived_by is None or edge.arrival is None or edge.arrival <= self.arrived_by):
            return False
        if self.lo is None:
            return True
        if self.lo <= edge.amount <= self.hi and self.currency in (None, edge.currency):
            return True
        return (
            self.value_lo is not None
            and edge.value is not None
            and (self.value_lo <= edge.value <= self.value_hi)
        )


Fetch = Callable[[str, Sequence[Request]], list[Sequence[Edge]]]


class Prospects(NamedTuple):
    """Whether each of a new transfer u → v's walks could find anything; False only when it
    cannot (selectors.transfers_prospects), True when it may."""

    round_trip: bool  # a last hop x → u within the window, x being v or paid before it
    carried_out: bool  # v sent one carrying the amount within the horizon: a first hop
    carried_in: bool  # u received one carrying it within the horizon
    layering: bool  # u received one it could have forwarded into this transfer
    loop: bool  # v sent and u received within the loop window: a first hop and a last one


Probe = Callable[[Sequence[Edge], "Parameters"], list[Prospects]]


@dataclass(frozen=True)
class Parameters:
    """The searches' bounds; each one a typology's, see docs/network.md. The detectors run
    with the version in force (runtime.in_force, ParameterVersion); these defaults are the
    installed version's values, used only where no version exists (a test database emptied
    by a transactional test, the pure tests of this module)."""

    max_hops: int = 12
    round_trip_window: timedelta = timedelta(days=7)
    horizon: timedelta = timedelta(days=35)
    fee_tolerance: Decimal = Decimal("0.02")
    forward_share: Decimal = Decimal("0.80")
    forward_within: timedelta = timedelta(hours=24)
    forward_most: Decimal = Decimal("1.10")  # a chain's account pays on at most this of it
    max_visits: int = 32  # nodes one walk may expand in all: a hub or a dense
    # neighbourhood cannot blow up the scoring path's cost
    edges_per_node: int = 20  # edges read per node and level (selectors.transfers_adjacent)
    round_sum: int = 10  # a multiple of it is a round sum, not followed as carried; 0: none
    everyday_below: int = 1000  # whole sums under it are everyday ones (``everyday``); 0: none
    counterparty_window: timedelta = timedelta(days=7)  # network.fan_in/out_accounts
    loop_window: timedelta = timedelta(days=7)  # a value loop's hops, any order, within this
    value_spread: Decimal = Decimal("0.25")  # a loop's (a U-turn's) hop values stay this close
    version_id: int | None = None  # the ParameterVersion these come from, kept on findings


@dataclass
class Finding:
    cycle: list[Edge] = field(default_factory=list)  # the cycle's hops, the new transfer first
    carried: list[Edge] = field(default_factory=list)  # the longest amount-carrying path
    chain: list[Edge] = field(default_factory=list)  # the layering chain, the new transfer last
    loop: list[Edge] = field(default_factory=list)  # a value loop, the new transfer first

    @property
    def cycle_time_ordered(self) -> bool:
        """Some member sent first and each hop left after the previous one arrived."""
        times = [edge.at for edge in self.cycle]
        descents = sum(times[i] > times[(i + 1) % len(times)] for i in range(len(times)))
        return bool(times) and descents <= 1

    @property
    def cycle_days(self) -> Decimal | None:
        if not self.cycle:
            return None
        span = max(e.at for e in self.cycle) - min(e.at for e in self.cycle)
        return Decimal(span.total_seconds() / 86400).quantize(Decimal("0.01"))

    @property
    def notable(self) -> bool:
        return bool(self.cycle) or len(self.carried) >= 2 or len(self.chain) >= 2 or bool(self.loop)

    @property
    def edges(self) -> list[Edge]:
        seen: dict[object, Edge] = {}
        for edge in (*self.cycle, *self.carried, *self.chain, *self.loop):
            seen.setdefault(edge.id, edge)
        return list(seen.values())

    @property
    def members(self) -> list[str]:
        return sorted({node for edge in self.edges for node in (edge.source, edge.target)})


class _Walk:
    """One breadth-first walk from one node, in one direction, under one search's rules."""

    __slots__ = (
        "new",
        "direction",
        "rule",
        "goal",
        "reached",
        "frontier",
        "start",
        "deepest",
        "visits",
        "closing",
        "returns",
    )

    def __init__(self, new: Edge, start: str, direction: str, rule: Callable, *, goal: str | None):
        self.new, self.direction, self.rule, self.goal = new, direction, rule, goal
        self.reached: dict[str, Edge | None] = {start: None}  # node -> the hop that reached it
        self.frontier = [start]
        self.start, self.deepest = start, start
        self.visits = 0
        self.closing: Edge | None = None
        # A two-hop return (A pays B, B pays A) is what a loan and its repayment look like:
        # a walk that meets one keeps looking for a longer cycle, reporting it only if none.
        # Every return met is kept (None until one is): a pair that trades back and forth is
        # judged on the return closest in value (_closest_return), not on the first.
        self.returns: list[Edge] | None = None

    def requests(self, parameters: Parameters) -> list[Request]:
        if self.closing:
            return []
        nodes = self.frontier[: max(0, parameters.max_visits - self.visits)]
        self.visits += len(nodes)
        return [self.rule(self, node, None) for node in nodes]

    def take(self, requests: Sequence[Request], answers: Sequence[Sequence[Edge]]) -> None:
        frontier = []
        for request, edges in zip(requests, answers, strict=True):
            for edge in edges:
                if edge.id == self.new.id or not self.rule(self, request.node, edge):
                    continue
                nxt = edge.target if self.direction == OUT else edge.source
                if nxt == self.goal:
                    if request.node != self.start:
                        self.closing = edge
                        return
                    if self.returns is None:
                        self.returns = []
                    self.returns.append(edge)
                    continue
                if nxt not in self.reached:
                    self.reached[nxt] = edge
                    frontier.append(nxt)
        self.frontier = frontier
        if frontier:
            self.deepest = frontier[0]

    def path(self, node: str) -> list[Edge]:
        """The hops from the start to ``node``, in walking order."""
        hops = []
        while (edge := self.reached[node]) is not None:
            hops.append(edge)
            node = edge.source if self.direction == OUT else edge.target
        return hops[::-1]


def _round_trip(p: Parameters) -> Callable:
    def rule(walk: _Walk, node: str, edge: Edge | None):
        arrived = walk.reached[node].at if walk.reached[node] else walk.new.at - p.round_trip_window
        if edge is None:
            new = walk.new
            return Request(
                new.partner_id, node, None, None, arrived, new.at, arrived_by=new.arrival
            )
        return arrived <= edge.at <= walk.new.at

    return rule


def everyday(edge: Edge, below: int) -> bool:
    """Whether ``edge`` carries an everyday sum: a whole one (none of its currency's decimals
    used: 25.00, 50.00, 780.00) under ``below`` (never when ``below`` is 0). People choose
    such sums when they pay each other (a share of a bill, a gift, a loan), so the same one
    recurs between unrelated people; fees, exchange and prices leave cents. In a currency
    without decimals (JPY) every sum is whole: none is everyday by this test."""
    amount = edge.amount
    return (
        amount < below and amount == amount.to_integral_value() and minor_units(edge.currency) > 0
    )


def round_sum(edge: Edge, multiple: int) -> bool:
    """Whether ``edge`` carries a round sum: a multiple of ``multiple`` (20.00, 500.00, 30,000
    yen; never when ``multiple`` is 0). Such sums recur between strangers by chance, at any
    size and in any currency: only an exact, unround amount passed along says it is the same
    money, so no amount-carrying walk starts from one. Not ``everyday``: that one asks of two
    hops in a row, and only of small whole sums in a currency with cents."""
    return bool(multiple) and not edge.amount % multiple


def _carried(p: Parameters) -> Callable:
    """Fees only ever reduce a sum: the hops after the new transfer carry at most its amount
    and at least that less ``fee_tolerance``; the hops before it, the other way round.

    A hop is not followed when it and the hop it continues (the new transfer's, at the start)
    both carry an everyday sum: 25.00 passed on as 25.00, 50.00 as 50.00, is what friends
    sharing costs do by chance. One of the two with cents is evidence as before: 780.00 passed
    on as 777.35 (a fee taken) is as unlikely by chance as any amount carried."""

    below = p.everyday_below

    def rule(walk: _Walk, node: str, edge: Edge | None):
        amount = walk.new.amount
        if edge is None:
            downstream = walk.direction == OUT
            return Request(
                walk.new.partner_id,
                node,
                amount * (1 - p.fee_tolerance) if downstream else amount,
                amount if downstream else amount / (1 - p.fee_tolerance),
                walk.new.at - p.horizon,
                walk.new.at + p.horizon,
                arrived_by=walk.new.arrival,
            )
        return not (
            below and everyday(edge, below) and everyday(walk.reached[node] or walk.new, below)
        )

    return rule


def _layering(p: Parameters) -> Callable:
    """Into the account that paid the hop ``onward``: the hops it received within
    ``forward_within`` before paying it, in ``chain_band`` of it."""

    def rule(walk: _Walk, node: str, edge: Edge | None):
        onward = walk.reached[node] or walk.new  # the hop that left ``node``
        if edge is None:
            return _banded_request(
                walk.new, node, chain_band(onward, p), onward.at - p.forward_within, onward.at
            )
        return True

    return rule


def chain_band(onward: Edge, p: Parameters) -> Band:
    """The hops into the account that paid ``onward`` that it can have passed on as
    ``onward``: ``onward`` is between ``forward_share`` and ``forward_most`` of their value. A
    chain's hops change currency (each account converts) and value (the launderers vary every
    sum, skim or top up; the day's reference rate is not the rate the bank converted at), so
    the band runs both ways and is compared as ``value_band``'s: in ``onward``'s currency by
    amount, across currencies by value in the reporting currency (none without a rate). Until
    December 2026 the chain compared amounts whatever their currencies (4,986.94 pesos
    against 19,454.87 roubles) and let a hop pay on at most 2 % more than it got."""
    value = onward.value
    return Band(
        onward.amount / p.forward_most,
        onward.amount / p.forward_share,
        onward.currency,
        None if value is None else value / p.forward_most,
        None if value is None else value / p.forward_share,
    )


def _loop(p: Parameters) -> Callable:
    """Any hop within ``loop_window`` before the new transfer, in any time order (the last
    hop of a loop to arrive closes it, so every other hop is already in the graph), in the
    value band of the new transfer (``value_band``)."""

    bands: dict[object, Band] = {}  # per new transfer: its walk asks for many nodes

    def rule(walk: _Walk, node: str, edge: Edge | None):
        if edge is None:
            new = walk.new
            if (band := bands.get(new.id)) is None:
                band = bands[new.id] = value_band(new, p.value_spread)
            return _banded_request(new, node, band, new.at - p.loop_window, new.at)
        return True

    return rule


def _banded_request(new: Edge, node: str, band: Band, since: datetime, until: datetime) -> Request:
    """The hops next to ``node`` in ``band`` over ``since`` to ``until``, as the graph stood
    when ``new`` (the walk's transfer) arrived."""
    lo, hi, currency, value_lo, value_hi = band
    return Request(
        new.partner_id, node, lo, hi, since, until, currency, value_lo, value_hi, new.arrival
    )


class Band(NamedTuple):
    lo: Decimal  # amounts in ``currency``
    hi: Decimal
    currency: str
    value_lo: Decimal | None  # values in the reporting currency; None: the edge has none
    value_hi: Decimal | None


def value_band(edge: Edge, spread: Decimal) -> Band:
    """The hops a loop through ``edge`` whose values lie within ``spread`` can hold. Such a
    loop's smallest value is at least (1 - spread) times its largest, so every hop lies within
    [x (1 - spread), x / (1 - spread)] of every other one's value x, ``edge``'s included. The
    values are compared as ``value_spread`` does: a loop in ``edge``'s currency by amount, a
    loop across currencies by value in the reporting currency (none without a rate): a hop in
    neither band can be in no loop that passes, so the walk need not follow it."""
    keep = 1 - spread
    value = edge.value
    return Band(
        edge.amount * keep,
        edge.amount / keep,
        edge.currency,
        None if value is None else value * keep,
        None if value is None else value / keep,
    )


def value_spread(edges: Sequence[Edge]) -> Decimal | None:
    """How far apart the hops' values lie, as a share of the largest: (largest - smallest) /
    largest. Compared in their own currency when they share one, otherwise by their value in
    the partner's reporting currency (converted at each day's rate when the edge was
    recorded); None when one of them has no rate (no comparison, never a guess)."""
    if len({edge.currency for edge in edges}) == 1:
        amounts = [edge.amount for edge in edges]
    else:
        amounts = [edge.value for edge in edges]
        if None in amounts:
            return None
    top = max(amounts) if amounts else None
    return (top - min(amounts)) / top if top else None


def _loop_of(walk: _Walk) -> list[Edge]:
    """The loop a value-loop walk closed (3 hops or more), the new transfer first."""
    if walk.closing is None:
        return []
    return [walk.new, *walk.path(walk.closing.source), walk.closing]


def detect(
    edges: Sequence[Edge], fetch: Fetch, parameters: Parameters, *, probe: Probe | None = None
) -> dict[object, Finding]:
    """What each new transfer closes or extends; every walk advances one level per round, so
    a batch costs one query per level and direction, whatever its size.

    ``probe`` (one query for the batch) spares the walks that cannot find anything: a
    round trip's last hop is a transfer x → u within the window, where x is v or received
    a hop within the window before paying u, so none can close when u received no such
    transfer; the other walks find nothing when their first level does. Exact: the findings
    are the same without it (tests/test_prospects.py)."""
    searched = [edge for edge in edges if edge.source != edge.target]
    prospects = iter(probe(searched, parameters)) if probe and searched else None
    searches: list[_Search] = []
    round_trip_rule, carried_rule, layering_rule, loop_rule = (
        _round_trip(parameters),
        _carried(parameters),
        _layering(parameters),
        _loop(parameters),
    )
    for edge in searched:
        prospect = next(prospects) if prospects is not None else _MAY_ALL
        if not any(prospect):
            continue  # no walk can find anything: no finding
        u, v = edge.source, edge.target
        carries = not round_sum(edge, parameters.round_sum)
        # A walk that cannot find anything is not made at all (_findings reads None as one
        # that found nothing): fewer objects, fewer garbage collections.
        searches.append(
            _Search(
                edge,
                _Walk(edge, v, OUT, round_trip_rule, goal=u) if prospect.round_trip else None,
                _Walk(edge, v, OUT, carried_rule, goal=u)
                if carries and prospect.carried_out
                else None,
                _Walk(edge, u, IN, carried_rule, goal=None)
                if carries and prospect.carried_in
                else None,
                _Walk(edge, u, IN, layering_rule, goal=None) if prospect.layering else None,
                _Walk(edge, v, OUT, loop_rule, goal=u) if prospect.loop else None,
            )
        )
    walks = [walk for search in searches for walk in search[1:] if walk is not None]
    active = {OUT: [w for w in walks if w.direction == OUT]}
    active[IN] = [w for w in walks if w.direction == IN]
    for _ in range(parameters.max_hops - 1):
        for direction in (OUT, IN):
            asking = [(walk, walk.requests(parameters)) for walk in active[direction]]
            asking = [(walk, requests) for walk, requests in asking if requests]
            active[direction] = [walk for walk, _ in asking]  # the others are done
            flat = [request for _, requests in asking for request in requests]
            if not flat:
                continue
            answers = iter(fetch(direction, flat))
            for walk, requests in asking:
                walk.take(requests, [next(answers) for _ in requests])
    return _findings(searches, parameters)


class _Search(NamedTuple):
    """The walks from one new transfer; None for one that cannot find anything."""

    edge: Edge
    round_trip: _Walk | None
    carried_out: _Walk | None
    carried_in: _Walk | None
    layering: _Walk | None
    loop: _Walk | None


_MAY_ALL = Prospects(True, True, True, True, True)


def _path(walk: _Walk | None) -> list[Edge]:
    return walk.path(walk.deepest) if walk is not None else []


def _closest_return(edge: Edge, returns: Sequence[Edge]) -> Edge:
    """The return of ``edge``'s money whose value is closest to it (the smallest spread; one
    that cannot be compared last; the first met among equals)."""

    def distance(back: Edge) -> tuple[bool, Decimal]:
        spread = value_spread((edge, back))
        return spread is None, spread or Decimal(0)

    return min(returns, key=distance)


def _findings(searches: Sequence[_Search], parameters: Parameters) -> dict[object, Finding]:
    found: dict[object, Finding] = {}
    for edge, round_trip, carried_out, carried_in, layering, loop in searches:
        finding = Finding()
        cycle_walks = [walk for walk in (round_trip, carried_out) if walk is not None]
        if closed := next((walk for walk in cycle_walks if walk.closing), None):
            finding.cycle = [edge, *closed.path(closed.closing.source), closed.closing]
        elif returns := next((walk.returns for walk in cycle_walks if walk.returns), None):
            finding.cycle = [edge, _closest_return(edge, returns)]
        if carried_out is not None and carried_out.closing:
            finding.carried = [
                edge,
                *carried_out.path(carried_out.closing.source),
                carried_out.closing,
            ]
        else:
            backward = _path(carried_in)
            carried = [*backward[::-1], edge, *_path(carried_out)]
            finding.carried = carried[: parameters.max_hops] if len(carried) > 1 else []
        chain = _path(layering)[::-1]
        finding.chain = [*chain, edge] if chain else []
        if len(finding.cycle) < 3 and loop is not None:  # a cycle found otherwise is that
            finding.loop = _loop_of(loop)
        if finding.notable:
            found[edge.id] = finding
    return found
