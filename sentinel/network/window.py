"""The scheduled window scan: shapes that only show over a partner's whole recent graph.

The searches of the scoring path (detectors.py) start from one new transfer and walk a few
hops; a fan-in of strangers over a week, or a set of senders paying a set of receivers, has no
single transfer to start from. This scan reads the partner's last ``window`` of edges once and
finds, set-wise in SQL (aggregates over the edge table, through its indexes):

- **fan-in** / **fan-out**: one of the partner's accounts paid by (paying) at least ``fan_min``
  accounts it had not dealt with before the window;
- **gather-scatter** (many → one → many): an account paid by at least ``gather_scatter_min``
  new accounts, which then pays at least as many new ones;
- **scatter-gather** (one → many → one): at least ``scatter_gather_min`` intermediaries each
  paid by the same source and then paying the same sink;
- **bipartite** and **stacked layers**: a set of senders paying a set of receivers in which
  every sender pays at least two of the receivers and every receiver is paid by at least two
  of the senders (the (2, 2)-core of the window's new edges, peeled in SQL), at least
  ``bipartite_min`` on each side, and at least ``bipartite_density`` of its sender-receiver
  pairs paid; a stack when some of its receivers pay on, after they were paid, within the set.

"New" is what makes a ring out of a customer's ordinary payees: the pair had no transfer in
the graph before the window (it keeps SENTINEL_NETWORK_RETENTION_DAYS, a month more than the
window), so the monthly rent, salary or the usual hairdresser's regulars do not count; a graph
holding less than ``history`` before the window is not scanned at all (just after go-live,
every payee would look new). And a ring must move money that matters: its transfers add up to
``ring_amount_min`` in one currency (a hairdresser's new clients pay 45 each).

Only the partner's own accounts can be a ring's hub (the alert's subject): a biller or an
employer at another bank is a hub every customer touches, and not the partner's to
investigate. Each ring is reported once, under the most specific shape: a hub already a
member of a stack, a bipartite set, a scatter-gather or a gather-scatter found by the same
scan is not reported again under a simpler shape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection

from .choices import PatternKind


@dataclass(frozen=True)
class WindowParameters:
    """The scan's bounds; each one a typology's, see docs/network.md § The window scan. The
    scan runs with the version in force (runtime.in_force, ParameterVersion); these defaults
    are the installed version's values, used only where no version exists."""

    window: timedelta = timedelta(days=10)
    # "New" needs the graph to hold this much before the window (a month: monthly bills and
    # salaries recur in it); a partner's graph younger than window + history is not scanned.
    history: timedelta = timedelta(days=31)
    fan_min: int = 5
    gather_scatter_min: int = 3
    scatter_gather_min: int = 3
    bipartite_min: int = 3
    # What a ring's transfers must add up to in one currency (the pack's amounts are in the
    # transaction's own currency, docs/detection.md): as the pack's fan-in rule, 3,000.
    ring_amount_min: Decimal = Decimal(3000)
    # A set member with more new counterparties than this in the window is a hub (a fan), not
    # one of a set: it is left out of the bipartite search, which stays cheap.
    bipartite_degree_max: int = 50
    # A set pays a set: at least this share of its sender-receiver pairs paid (a sparse web of
    # strangers, which a large graph always holds, is not one).
    bipartite_density: float = 0.5
    version_id: int | None = None  # the ParameterVersion these come from, kept on rings


@dataclass
class Ring:
    """One shape found: its hub, every member account and the transfers forming it."""

    kind: str
    hub: str
    members: set[str] = field(default_factory=set)
    transactions: set = field(default_factory=set)
    first_at: datetime | None = None
    last_at: datetime | None = None

    def add(self, tx_id, source: str, target: str, at: datetime) -> None:
        self.members.update((source, target))
        self.transactions.add(tx_id)
        self.first_at = at if self.first_at is None else min(self.first_at, at)
        self.last_at = at if self.last_at is None else max(self.last_at, at)


_OLDEST = "SELECT min(occurred_at) FROM network_transfer WHERE partner_id = %(partner)s"

# The window's new edges: those whose pair had no transfer in the graph before the window.
_WINDOW = """
SET LOCAL work_mem = '256MB';
DROP TABLE IF EXISTS network_window, network_window_in, network_window_out,
    network_window_account;
CREATE TEMP TABLE network_window ON COMMIT DROP AS
SELECT w.transaction_id AS id, w.source, w.target, w.occurred_at AS at
FROM network_transfer w
WHERE w.partner_id = %(partner)s AND w.occurred_at > %(since)s AND w.occurred_at <= %(until)s
  AND NOT EXISTS (
      SELECT 1 FROM network_transfer o
      WHERE o.partner_id = %(partner)s AND o.source = w.source AND o.occurred_at <= %(since)s
        AND o.target = w.target
  );
CREATE TEMP TABLE network_window_in ON COMMIT DROP AS
SELECT target AS node, count(DISTINCT source) AS n, min(at) AS first FROM network_window
GROUP BY target;
CREATE TEMP TABLE network_window_out ON COMMIT DROP AS
SELECT source AS node, count(DISTINCT target) AS n FROM network_window GROUP BY source;
CREATE TEMP TABLE network_window_account ON COMMIT DROP AS
SELECT external_id AS node FROM transactions_account WHERE partner_id = %(partner)s;
ANALYZE network_window; ANALYZE network_window_in; ANALYZE network_window_out;
ANALYZE network_window_account;
"""

# The partner's accounts with enough new payers or payees for a fan, or new payers and then
# (after the first of them) new payees for a gather-scatter: (node, payers, payees, later).
_HUBS = """
WITH later AS (
    SELECT w.source AS node, count(DISTINCT w.target) AS n FROM network_window w
    JOIN network_window_in i ON i.node = w.source AND i.n >= %(least)s AND w.at >= i.first
    GROUP BY w.source
)
SELECT a.node, coalesce(i.n, 0), coalesce(o.n, 0), coalesce(l.n, 0)
FROM network_window_account a
LEFT JOIN network_window_in i ON i.node = a.node
LEFT JOIN network_window_out o ON o.node = a.node
LEFT JOIN later l ON l.node = a.node
WHERE i.n >= %(least)s OR o.n >= %(least)s
"""
_INTO = """
SELECT w.target, w.id, w.source, w.target, w.at FROM network_window w
WHERE w.target = ANY(%(nodes)s)
"""
_OUT_OF = """
SELECT w.source, w.id, w.source, w.target, w.at, coalesce(w.at >= i.first, false)
FROM network_window w LEFT JOIN network_window_in i ON i.node = w.source
WHERE w.source = ANY(%(nodes)s)
"""
# Two-hop paths source → middle → sink, the second hop after the first, between a source with
# enough payees and a sink with enough payers; only the (source, sink) pairs with enough
# distinct middles.
_TWO_HOPS = """
WITH hops AS MATERIALIZED (
    SELECT a.source, b.target AS sink, a.target AS middle, a.id AS first_id,
           a.at AS first_at, b.id AS second_id, b.at AS second_at
    FROM network_window a
    JOIN network_window_out so ON so.node = a.source AND so.n >= %(least)s
    JOIN network_window b ON b.source = a.target AND b.at >= a.at AND b.target <> a.source
    JOIN network_window_in si ON si.node = b.target AND si.n >= %(least)s
), ends AS (
    SELECT source, sink FROM hops GROUP BY source, sink
    HAVING count(DISTINCT middle) >= %(least)s
)
SELECT h.source, h.sink, h.middle, h.first_id, h.first_at, h.second_id, h.second_at
FROM hops h JOIN ends USING (source, sink)
"""
# The (2, 2)-core of the window's new pairs, peeled in place: the pairs from a node paying 2 to
# ``most`` new accounts to one paid by 2 to ``most``, then, until nothing goes, those whose
# source pays fewer than two targets or whose target is paid by fewer than two sources left.
_CORE = """
DROP TABLE IF EXISTS network_window_pair;
CREATE TEMP TABLE network_window_pair ON COMMIT DROP AS
SELECT DISTINCT w.source, w.target FROM network_window w
JOIN network_window_out o ON o.node = w.source AND o.n BETWEEN 2 AND %(most)s
JOIN network_window_in i ON i.node = w.target AND i.n BETWEEN 2 AND %(most)s;
"""
_PEEL = """
WITH lone_sources AS (
    SELECT source FROM network_window_pair GROUP BY source HAVING count(*) < 2
), lone_targets AS (
    SELECT target FROM network_window_pair GROUP BY target HAVING count(*) < 2
)
DELETE FROM network_window_pair p
WHERE p.source IN (SELECT source FROM lone_sources) OR p.target IN (SELECT target FROM lone_targets)
"""
_CORE_EDGES = """
SELECT w.id, w.source, w.target, w.at FROM network_window w
JOIN network_window_pair p ON p.source = w.source AND p.target = w.target
"""
_ACCOUNTS = "SELECT node FROM network_window_account WHERE node = ANY(%(nodes)s)"
# The rings' transfers with their currency, to weigh them.
_AMOUNTS = """
SELECT w.transaction_id, w.source, w.target, w.occurred_at, w.currency, w.amount
FROM network_transfer w
WHERE w.transaction_id = ANY(%(ids)s)
"""

# Most specific first: a hub found in one of these is not reported again under a later one.
PRECEDENCE = (
    PatternKind.STACK,
    PatternKind.BIPARTITE,
    PatternKind.SCATTER_GATHER,
    PatternKind.GATHER_SCATTER,
    PatternKind.FAN_IN,
    PatternKind.FAN_OUT,
)


def window_rings(*, partner_id: int, until: datetime, parameters: WindowParameters) -> list[Ring]:
    """The rings in the partner's graph over ``(until - window, until]``; runs inside the
    caller's database transaction (its temporary tables go with it)."""
    p = parameters
    with connection.cursor() as cursor:
        if p.history:
            cursor.execute(_OLDEST, {"partner": partner_id})
            (oldest,) = cursor.fetchone()
            if oldest is None or oldest > until - p.window - p.history:
                return []  # too young a graph: every payee would look new
        cursor.execute(_WINDOW, {"partner": partner_id, "since": until - p.window, "until": until})
        rings = [
            *_stacks_and_bipartite(cursor, p),
            *_scatter_gather(cursor, p),
            *_fans(cursor, p),
        ]
        rings = _large_enough(cursor, rings, p.ring_amount_min)
    return _most_specific(rings)


def _fans(cursor, p: WindowParameters) -> list[Ring]:
    cursor.execute(_HUBS, {"least": min(p.fan_min, p.gather_scatter_min)})
    kinds: dict[str, list[str]] = {}
    for hub, payers, payees, later in cursor.fetchall():
        if payers >= p.gather_scatter_min and later >= p.gather_scatter_min:
            kinds[hub] = [PatternKind.GATHER_SCATTER]
            continue
        kinds[hub] = [PatternKind.FAN_IN] * (payers >= p.fan_min) + [PatternKind.FAN_OUT] * (
            payees >= p.fan_min
        )
    ins, outs = _edges_of(cursor, _INTO, kinds), _edges_of(cursor, _OUT_OF, kinds)
    rings = []
    for hub, shapes in kinds.items():
        for kind in shapes:
            if kind == PatternKind.GATHER_SCATTER:
                edges = [*ins[hub], *(edge for edge in outs[hub] if edge[-1])]
            else:
                edges = ins[hub] if kind == PatternKind.FAN_IN else outs[hub]
            rings.append(_ring(kind, hub, edges))
    return rings


def _edges_of(cursor, sql: str, hubs: dict) -> dict[str, list]:
    edges: dict[str, list] = defaultdict(list)
    if hubs:
        cursor.execute(sql, {"nodes": list(hubs)})
        for hub, *edge in cursor.fetchall():
            edges[hub].append(edge)
    return edges


def _scatter_gather(cursor, p: WindowParameters) -> list[Ring]:
    paths: dict[tuple[str, str], list] = defaultdict(list)
    cursor.execute(_TWO_HOPS, {"least": p.scatter_gather_min})
    for source, sink, middle, first_id, first_at, second_id, second_at in cursor.fetchall():
        paths[source, sink].append((middle, first_id, first_at, second_id, second_at))
    accounts = _accounts(cursor, {node for ends in paths for node in ends})
    rings = []
    for (source, sink), hops in paths.items():
        hub = source if source in accounts else sink
        if hub not in accounts:
            continue
        ring = Ring(PatternKind.SCATTER_GATHER, hub)
        for middle, first_id, first_at, second_id, second_at in hops:
            ring.add(first_id, source, middle, first_at)
            ring.add(second_id, middle, sink, second_at)
        rings.append(ring)
    return rings


def _stacks_and_bipartite(cursor, p: WindowParameters) -> list[Ring]:
    cursor.execute(_CORE, {"most": p.bipartite_degree_max})
    while True:
        cursor.execute(_PEEL)
        if not cursor.rowcount:
            break
    cursor.execute(_CORE_EDGES)
    sets = _components(cursor.fetchall())
    accounts = _accounts(cursor, {node for edges in sets for e in edges for node in e[1:3]})
    rings = []
    for edges in sets:
        senders = {source for _, source, _, _ in edges}
        receivers = {target for _, _, target, _ in edges}
        if len(senders) < p.bipartite_min or len(receivers) < p.bipartite_min:
            continue
        pairs = {(source, target) for _, source, target, _ in edges}
        if len(pairs) < p.bipartite_density * len(senders) * len(receivers):
            continue
        hubs = sorted(senders & accounts or receivers & accounts)
        if not hubs:
            continue
        kind = PatternKind.STACK if _pays_on(edges) else PatternKind.BIPARTITE
        rings.append(_ring(kind, hubs[0], edges))
    return rings


def _components(edges: list[tuple]) -> list[list[tuple]]:
    """The edges grouped by the connected sets of accounts they join (union-find)."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for _, source, target, _ in edges:
        parent[root(source)] = root(target)
    groups: dict[str, list] = defaultdict(list)
    for edge in edges:
        groups[root(edge[1])].append(edge)
    return list(groups.values())


def _pays_on(edges: list[tuple]) -> bool:
    """Some receivers (two at least: a layer) pay on within the set after they were paid."""
    first_paid: dict[str, datetime] = {}
    for _, _, target, at in edges:
        first_paid[target] = min(at, first_paid.get(target, at))
    layer = {
        source for _, source, _, at in edges if source in first_paid and at >= first_paid[source]
    }
    return len(layer) >= 2


def _ring(kind: str, hub: str, edges: Iterable[tuple]) -> Ring:
    ring = Ring(kind, hub)
    for tx_id, source, target, at, *_ in edges:
        ring.add(tx_id, source, target, at)
    return ring


def _accounts(cursor, nodes: set[str]) -> set[str]:
    if not nodes:
        return set()
    cursor.execute(_ACCOUNTS, {"nodes": list(nodes)})
    return {node for (node,) in cursor.fetchall()}


def _large_enough(cursor, rings: list[Ring], least: Decimal) -> list[Ring]:
    """The rings whose transfers add up to ``least`` in one currency at least. A transfer
    reported by both sides is two edges: it counts once per currency."""
    if not rings or least <= 0:
        return rings
    cursor.execute(_AMOUNTS, {"ids": list({tx for ring in rings for tx in ring.transactions})})
    moved = {tx_id: (key, currency, amount) for tx_id, *key, currency, amount in cursor.fetchall()}
    kept = []
    for ring in rings:
        once: dict[tuple, Decimal] = {}
        for tx_id in ring.transactions:
            key, currency, amount = moved[tx_id]
            once[(*key, currency)] = amount
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for (*_, currency), amount in once.items():
            totals[currency] += amount
        if max(totals.values()) >= least:
            kept.append(ring)
    return kept


def _most_specific(rings: list[Ring]) -> list[Ring]:
    """One ring per hub and shape, the most specific shape first: a ring whose hub is a member
    of a more specific one is part of that ring, not another one (a scatter-gather inside a
    stack, a fan at a gather-scatter's hub)."""
    taken: set[str] = set()
    kept = []
    for kind in PRECEDENCE:
        mine = [ring for ring in rings if ring.kind == kind and ring.hub not in taken]
        kept += mine
        taken.update(member for ring in mine for member in ring.members)
    return kept
