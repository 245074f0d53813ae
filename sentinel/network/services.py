"""Writes of the transaction graph: new edges, what the searches found, the pruning, and the
proximity to known-bad accounts."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from uuid import UUID

import orjson
from django.conf import settings
from django.db import IntegrityError, connection
from django.db import transaction as db_transaction
from django.db.models import Case, Q, When
from django.utils import timezone

from sentinel.db import execute_with_records
from transactions.choices import TransactionStatus, TransactionType
from transactions.models import Transaction
from transactions.selectors import transactions_base_values

from .detectors import Edge, Finding, Parameters, detect, value_spread
from .models import AccountProximity, NetworkPattern, Transfer
from .proximity import ProximityParameters, Reach, Seed, proximity_reach
from .runtime import in_force
from .selectors import (
    counterparts_within,
    transfer_arrivals,
    transfers_adjacent,
    transfers_prospects,
)
from .window import Ring, WindowParameters, window_rings

# Money sent from one account to another. Card payments and refunds go to and from merchants,
# hubs every customer touches: through them everyone would be a hop from everyone (on the demo,
# customer → merchant → customer refunds closed hundreds of "cycles"). Cash has no other side.
MONEY_MOVES = frozenset(
    {TransactionType.TRANSFER, TransactionType.WIRE, TransactionType.ACH, TransactionType.P2P}
)


def transfers_record(*, transactions: Sequence[Transaction]) -> list[Edge]:
    """Add the batch's transfers between accounts to the graph (approved, both accounts known,
    not to itself), each with its value in the partner's reporting currency (the rules'
    ``amount_base``; none without a rate) and its arrival; the batch's edges. A transaction
    already recorded (a retried batch) adds none and keeps its arrival.

    The batch arrives in time order (then by the partner's id for it): a stream in time order
    thus gets the arrivals it would have had one transaction at a time, whatever batches the
    queue made of it, and a search from each edge reads only the edges that arrived before it
    (``Request.arrived_by``)."""
    moves = [
        tx
        for tx in transactions
        if tx.status == TransactionStatus.APPROVED
        and tx.type in MONEY_MOVES
        and tx.originator_account_id
        and tx.beneficiary_account_id
        and tx.originator_account_id != tx.beneficiary_account_id
    ]
    if not moves:
        return []
    values = dict(zip((tx.id for tx in moves), transactions_base_values(moves), strict=True))
    arriving = sorted(moves, key=lambda tx: (tx.occurred_at, tx.external_id))
    # One statement, no model instance (nor dictionary) per edge.
    arrivals = dict(
        execute_with_records(
            _INSERT,
            [
                (
                    tx.id,
                    tx.partner_id,
                    tx.originator_account_id,
                    tx.beneficiary_account_id,
                    str(tx.amount),
                    tx.occurred_at,
                    tx.currency,
                    _text(values[tx.id]),
                )
                for tx in arriving
            ],
        )
    )
    if len(arrivals) < len(moves):  # recorded before: the arrival it got then
        arrivals.update(
            transfer_arrivals(transaction_ids=[tx.id for tx in moves if tx.id not in arrivals])
        )
    return [
        Edge(
            tx.id,
            tx.partner_id,
            tx.originator_account_id,
            tx.beneficiary_account_id,
            tx.amount,
            tx.occurred_at,
            tx.currency,
            values[tx.id],
            arrivals.get(tx.id),
        )
        for tx in moves
    ]


# The arrivals follow the records' order: a volatile function in the select list is evaluated
# after the ORDER BY.
_INSERT = """
INSERT INTO network_transfer
    (transaction_id, partner_id, source, target, amount, occurred_at, currency, value, arrival)
SELECT (a.r->>0)::uuid, (a.r->>1)::bigint, a.r->>2, a.r->>3, (a.r->>4)::numeric,
       (a.r->>5)::timestamptz, a.r->>6, (a.r->>7)::numeric, nextval('network_transfer_arrival')
FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS a(r, i)
ORDER BY a.i
ON CONFLICT DO NOTHING
RETURNING transaction_id, arrival
"""


def network_extend(
    *, transactions: Sequence[Transaction], parameters: Parameters | None = None
) -> dict[object, Finding]:
    """The pipeline's network step: record the batch's edges, search from each with the
    parameters in force (or those given), and store what was found, naming the parameter
    version (read by the ``network`` feature provider in the next stage); what was found,
    by transaction id."""
    edges = transfers_record(transactions=transactions)
    parameters = parameters or in_force().searches
    found = findings_searched(edges, parameters)
    if found:  # one statement, no model instance per finding
        found_at = timezone.now()
        execute_with_records(
            _INSERT_FINDINGS,
            [
                (
                    tx_id,
                    next(e.partner_id for e in finding.edges if e.id == tx_id),
                    len(finding.cycle),
                    _text(finding.cycle_days),
                    finding.cycle_time_ordered,
                    _text(_percent(value_spread(finding.cycle))),
                    len(finding.loop),
                    max(1, len(finding.carried)),
                    max(1, len(finding.chain)),
                    finding.members,
                    [edge.id for edge in finding.edges],
                    found_at,
                    parameters.version_id,
                )
                for tx_id, finding in found.items()
            ],
        )
    return found


def findings_searched(edges: Sequence[Edge], parameters: Parameters) -> dict[object, Finding]:
    """What the searches find from these edges, as the network step keeps it: a value loop
    only when its hop values stay within the spread (the walk followed only the hops in its
    band: this is the exact check), and only notable findings. Reads the graph, writes
    nothing (back-tests too)."""
    fetch = partial(transfers_adjacent, limit=parameters.edges_per_node)
    found = detect(edges, fetch, parameters, probe=transfers_prospects)
    for finding in found.values():  # a loop is the same money going round, or nothing
        spread = value_spread(finding.loop)
        if finding.loop and (spread is None or spread > parameters.value_spread):
            finding.loop = []
    return {tx_id: f for tx_id, f in found.items() if f.notable}


_INSERT_FINDINGS = """
INSERT INTO network_networkfinding
    (transaction_id, partner_id, cycle_length, cycle_days, cycle_time_ordered,
     cycle_value_spread, loop_length, carried_hops, chain_depth, members, transactions,
     found_at, parameters_id)
SELECT (r->>0)::uuid, (r->>1)::bigint, (r->>2)::smallint, (r->>3)::numeric, (r->>4)::boolean,
       (r->>5)::numeric, (r->>6)::smallint, (r->>7)::smallint, (r->>8)::smallint,
       ARRAY(SELECT jsonb_array_elements_text(r->9))::varchar[],
       ARRAY(SELECT jsonb_array_elements_text(r->10))::uuid[],
       (r->>11)::timestamptz, (r->>12)::bigint
FROM jsonb_array_elements(%s::jsonb) AS r
ON CONFLICT DO NOTHING
"""


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _percent(share: Decimal | None) -> Decimal | None:
    return None if share is None else (share * 100).quantize(Decimal("0.01"))


def transfers_prune(*, retention_days: int | None = None) -> int:
    """Forget the edges older than the retention window; how many went."""
    days = retention_days or settings.SENTINEL_NETWORK_RETENTION_DAYS
    deleted, _ = Transfer.objects.filter(
        occurred_at__lt=timezone.now() - timedelta(days=days)
    ).delete()
    return deleted


# pg_advisory_xact_lock's first key: this module's scans (the second is the partner).
_SCAN_LOCK = 16_0001


@dataclass(frozen=True)
class PatternGrowth:
    """A known ring a re-scan grew: the members and transfers it gained (both non-empty
    together or apart: a new transfer may join two members already known)."""

    pattern: NetworkPattern
    members: tuple[str, ...]
    transactions: tuple[UUID, ...]


@dataclass
class PatternsScanned:
    """What one scan stored: the rings not known before, and the known ones it grew."""

    new: list[NetworkPattern] = field(default_factory=list)
    grown: list[PatternGrowth] = field(default_factory=list)


def network_patterns_scan(
    *,
    partner_id: int,
    until: datetime | None = None,
    parameters: WindowParameters | None = None,
) -> list[NetworkPattern]:
    """Scan the partner's recent window for rings (window.py) and store them; the rings not
    known before (``network_patterns_scan_changes`` also says which known ones grew)."""
    return network_patterns_scan_changes(
        partner_id=partner_id, until=until, parameters=parameters
    ).new


def network_patterns_scan_changes(
    *,
    partner_id: int,
    until: datetime | None = None,
    parameters: WindowParameters | None = None,
) -> PatternsScanned:
    """Scan the partner's recent window for rings (window.py) and store them. A ring met again
    (sharing a transfer with a known one of its shape, or around the same hub over
    overlapping times) grows the known one instead, so re-scans add nothing twice; what it
    gained is reported, for the ring's alert. Scans of one partner take turns. Runs with the
    parameters in force unless given some (tests, the bench, detection_report's replays)."""
    until = until or timezone.now()
    parameters = parameters or in_force().window
    scanned = PatternsScanned()
    held: dict[int, NetworkPattern] = {}
    with db_transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_SCAN_LOCK, partner_id])
        rings = window_rings(partner_id=partner_id, until=until, parameters=parameters)
        for ring in rings:
            stored = _pattern_store(partner_id, ring, parameters.version_id, held)
            if isinstance(stored, PatternGrowth):
                scanned.grown.append(stored)
            elif stored is not None:
                scanned.new.append(stored)
    return scanned


def _pattern_store(
    partner_id: int, ring: Ring, version_id: int | None, held: dict[int, NetworkPattern]
) -> NetworkPattern | PatternGrowth | None:
    """The new pattern for this ring, what a known one gained from it, or None (nothing new).

    ``held``: the patterns this scan has read, stored or grown so far, by id, as they are
    stored. Their rows stay locked by the scan until it commits, so a later ring of the same
    scan meeting one of them takes it from there instead of reading it again: on AMLSim one
    gather-scatter ring holds 13,650 transfers, and the hubs around it meet it ring after
    ring in every daily scan."""
    met = _pattern_met(partner_id, ring, held)
    if met is None:
        created = NetworkPattern.objects.create(
            partner_id=partner_id,
            kind=ring.kind,
            hub=ring.hub,
            members=sorted(ring.members),
            transactions=sorted(ring.transactions, key=str),
            first_at=ring.first_at,
            last_at=ring.last_at,
            parameters_id=version_id,
        )
        held[created.pk] = created
        return created
    known = copy.copy(met)  # each growth reports the pattern as that growth left it
    grown = sorted(ring.transactions - set(known.transactions), key=str)
    if not grown:
        return None
    joined = sorted(ring.members - set(known.members))
    known.members = sorted(ring.members | set(known.members))
    known.transactions = [*known.transactions, *grown]
    known.last_at = max(known.last_at, ring.last_at)
    known.updated_at = timezone.now()
    try:
        with db_transaction.atomic():  # growing into a later ring of the same hub: leave it
            execute_with_records(
                _PATTERN_GROW,
                grown,
                orjson.dumps(known.members).decode(),
                known.last_at,
                known.updated_at,
                known.pk,
            )
    except IntegrityError:
        return None
    held[known.pk] = known
    return PatternGrowth(known, tuple(joined), tuple(grown))


def _pattern_met(
    partner_id: int, ring: Ring, held: dict[int, NetworkPattern]
) -> NetworkPattern | None:
    """The known pattern ``ring`` meets (the latest, when several), its row locked until the
    scan commits; None when it meets none. One query: the first time the scan meets a pattern
    it reads its row there and keeps it in ``held``; met again, its arrays are not read (NULL)
    and ``held`` has them (until December 2026 a first meeting asked for the id, then the row)."""
    unread = ~Q(pk__in=list(held))
    met = (
        NetworkPattern.objects.select_for_update()
        .filter(partner_id=partner_id, kind=ring.kind)
        .filter(
            Q(transactions__overlap=list(ring.transactions))
            | Q(hub=ring.hub, first_at__lte=ring.last_at, last_at__gte=ring.first_at)
        )
        .order_by("-last_at")
        .defer("members", "transactions")
        .annotate(
            unread_members=Case(When(unread, then="members")),
            unread_transactions=Case(When(unread, then="transactions")),
        )
        .first()
    )
    if met is None:
        return None
    if met.pk not in held:
        met.members, met.transactions = met.unread_members, met.unread_transactions
        del met.unread_members, met.unread_transactions  # the row as ``get`` reads it
        held[met.pk] = met
    return held[met.pk]


# A grown ring's transfers are appended where they are stored: sending the whole array back
# (13,650 transfers for a gather-scatter hub on AMLSim, rewritten at every scan that grows it)
# cost more in adapting it element by element than the statement itself. What is sent travels
# as JSON (orjson encodes UUIDs in C), in the order given.
_PATTERN_GROW = """
UPDATE network_networkpattern SET
    transactions = transactions || ARRAY(
        SELECT t.id::uuid FROM jsonb_array_elements_text(%s::jsonb) WITH ORDINALITY AS t(id, n)
        ORDER BY t.n
    ),
    members = ARRAY(
        SELECT m.id FROM jsonb_array_elements_text(%s::jsonb) WITH ORDINALITY AS m(id, n)
        ORDER BY m.n
    ),
    last_at = %s, updated_at = %s
WHERE id = %s
"""


# pg_advisory_xact_lock's first key for proximity writes (the second is the partner).
_PROXIMITY_LOCK = 16_0002
_PROXIMITY_BATCH = 5000


def account_proximity_store(
    *,
    partner_id: int,
    seeds: Sequence[Seed],
    extend: bool = False,
    until: datetime | None = None,
    parameters: ProximityParameters | None = None,
) -> int:
    """Walk from ``seeds`` and store what they reach; how many accounts were written.

    Whole (the seeds are all the partner's): its stored proximity is replaced, so a seed that
    is one no longer takes its proximity away. ``extend`` (the seeds are new ones): only the
    accounts they bring nearer are written, the others keep theirs (an added seed can only
    bring accounts nearer). Writes of one partner take turns. Walks with the parameters in
    force (the hops and the hub limit of the version) unless given some (tests, the bench)."""
    until = until or timezone.now()
    with db_transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_PROXIMITY_LOCK, partner_id])
        reached = _reach(partner_id, seeds, until, parameters or in_force().proximity)
        rows = AccountProximity.objects.filter(partner_id=partner_id)
        if not extend:
            rows.delete()
            rows.bulk_create(
                _proximity_rows(partner_id, reached.values(), until), batch_size=_PROXIMITY_BATCH
            )
            return len(reached)
        stored = dict(rows.filter(account__in=list(reached)).values_list("account", "hops"))
        nearer = [r for r in reached.values() if r.hops < stored.get(r.account, r.hops + 1)]
        rows.bulk_create(
            _proximity_rows(partner_id, nearer, until),
            batch_size=_PROXIMITY_BATCH,
            update_conflicts=True,
            unique_fields=["partner", "account"],
            update_fields=["hops", "seed", "seed_reason", "seed_note", "path", "computed_at"],
        )
    return len(nearer)


def _reach(
    partner_id: int, seeds: Sequence[Seed], until: datetime, parameters: ProximityParameters
) -> dict[str, Reach]:
    since = parameters.since(until)

    def neighbours(nodes: Sequence[str]) -> dict[str, list[str]]:
        return counterparts_within(
            partner_id=partner_id,
            nodes=nodes,
            since=since,
            until=until,
            limit=parameters.hub_counterparties + 1,
        )

    return proximity_reach(seeds, neighbours, parameters)


def _proximity_rows(
    partner_id: int, reached: Iterable[Reach], computed_at: datetime
) -> Iterator[AccountProximity]:
    for reach in reached:
        yield AccountProximity(
            partner_id=partner_id,
            account=reach.account,
            hops=reach.hops,
            seed=reach.seed.account,
            seed_reason=reach.seed.reason,
            seed_note=reach.seed.note[:200],
            path=list(reach.path),
            computed_at=computed_at,
        )
