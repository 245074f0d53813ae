"""Back-testing a detector parameter version: what the network detectors would find with it
over one partner's stored graph for a period, beside the version in force, written nowhere the
live system reads (docs/network.md § Back-testing a parameter version).

Both sides are replayed the same way over the graph as it is now: the searches from each stored
transfer of the period (``detectors.detect`` and the value loops' spread check, as the scoring
path runs them, nothing stored), and the window scan (``window.window_rings``) at steps through
the period, its rings merged as the live re-scans grow them. A difference between the two
sides is the parameters' doing. Each transfer is searched in the graph as it stood when it
arrived (the transfers that arrived after it are left out, as the scoring path left them:
``Transfer.arrival``), so the version in force finds again what was stored; a side may still
differ from it where the graph has lost edges since (pruned beyond the retention window) or
holds edges recorded before arrivals were kept.

The only row written is the ``ParameterBacktest`` itself (its progress and result); the scan's
temporary tables go with each scan's own database transaction.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction as db_transaction
from django.utils import timezone

from . import selectors
from .choices import BacktestState, PatternKind
from .detectors import Edge, Parameters
from .models import ParameterBacktest
from .runtime import InForce, of_version
from .services import findings_searched
from .window import Ring, WindowParameters, window_rings

logger = logging.getLogger(__name__)

CHUNK = 1000  # transfers searched from per round: one query per level and direction for all
SAMPLES = 10  # of each kind, new and no longer found
SAMPLE_NAMES = 12  # accounts and transactions named per sample
# The scoring path's searches, in the order of the page; each as ``Finding.notable`` counts it.
SEARCH_KINDS = {
    "cycle": "Cycle (round trip or amount carried back)",
    "loop": "Value loop",
    "carried": "Amount carried on (2 hops or more)",
    "chain": "Layering chain (2 hops or more)",
}
KINDS = {**SEARCH_KINDS, **dict(PatternKind.choices)}


@dataclass
class Found:
    """One thing a side found: through one transfer (the searches: ``through``) or a ring of
    the window scan (``hub``)."""

    kind: str
    members: set[str]
    transactions: set
    first_at: datetime
    last_at: datetime
    through: object = None
    hub: str = ""


def _from_hops(kind: str, through: object, hops: Sequence[Edge]) -> Found:
    return Found(
        kind=kind,
        members={node for edge in hops for node in (edge.source, edge.target)},
        transactions={edge.id for edge in hops},
        first_at=min(edge.at for edge in hops),
        last_at=max(edge.at for edge in hops),
        through=through,
    )


def searches_replayed(edges: Sequence[Edge], parameters: Parameters) -> list[Found]:
    """What the scoring path's searches find from these transfers, as ``network_extend``
    would store it (a value loop kept only when its hop values stay within the spread), but
    not stored."""
    found = findings_searched(edges, parameters)
    results = []
    for tx_id, finding in found.items():
        for kind, hops in (
            ("cycle", finding.cycle),
            ("loop", finding.loop),
            ("carried", finding.carried if len(finding.carried) >= 2 else []),
            ("chain", finding.chain if len(finding.chain) >= 2 else []),
        ):
            if hops:
                results.append(_from_hops(kind, tx_id, hops))
    return results


def scan_untils(after: datetime, before: datetime, parameters: WindowParameters) -> list[datetime]:
    """The ends of the scans that replay the window scan over ``(after, before]``, oldest
    first: every half window (a day at least), so a ring within half a window is seen whole by
    one scan and a longer one in overlapping pieces, merged as live re-scans grow it."""
    step = max(timedelta(days=1), parameters.window / 2)
    untils, until = [], before
    while until > after:
        untils.append(until)
        until -= step
    return untils[::-1]


def rings_replayed(
    *,
    partner_id: int,
    untils: Iterable[datetime],
    parameters: WindowParameters,
    progress: Callable[[int], None] = lambda done: None,
) -> list[Found]:
    """The rings the window scan finds at each of ``untils``, merged, not stored."""
    by_kind: dict[str, list[Found]] = defaultdict(list)
    for until in untils:
        with db_transaction.atomic():  # the scan's temporary tables go with it
            rings = window_rings(partner_id=partner_id, until=until, parameters=parameters)
        for ring in rings:
            _merge(by_kind[ring.kind], ring)
        progress(1)
    return [found for kind in by_kind.values() for found in kind]


def _merge(known: list[Found], ring: Ring) -> None:
    """As ``services._pattern_store``: a ring sharing a transfer with a known one of its
    shape, or around its hub over overlapping times, grows it."""
    for found in known:
        if found.transactions & ring.transactions or (
            found.hub == ring.hub
            and found.first_at <= ring.last_at
            and found.last_at >= ring.first_at
        ):
            found.members |= ring.members
            found.transactions |= ring.transactions
            found.first_at = min(found.first_at, ring.first_at)
            found.last_at = max(found.last_at, ring.last_at)
            return
    known.append(
        Found(
            kind=ring.kind,
            members=set(ring.members),
            transactions=set(ring.transactions),
            first_at=ring.first_at,
            last_at=ring.last_at,
            hub=ring.hub,
        )
    )


def _same(a: Found, b: Found) -> bool:
    """The searches' findings are the same when found through the same transfer; rings, when
    they share a transfer or a hub over overlapping times."""
    if a.through is not None:
        return a.through == b.through
    return bool(a.transactions & b.transactions) or (
        a.hub == b.hub and a.first_at <= b.last_at and a.last_at >= b.first_at
    )


def _unmatched(these: list[Found], others: list[Found]) -> list[Found]:
    if these and these[0].through is not None:
        through = {found.through for found in others}
        return [found for found in these if found.through not in through]
    return [found for found in these if not any(_same(found, other) for other in others)]


@dataclass
class _Side:
    version: InForce
    found: list[Found]
    search_seconds: float = 0.0
    scan_seconds: float = 0.0

    def of_kind(self, kind: str) -> list[Found]:
        return [found for found in self.found if found.kind == kind]

    def accounts(self) -> set[str]:
        return {member for found in self.found for member in found.members}

    def transactions(self) -> set:
        return {tx_id for found in self.found for tx_id in found.transactions}


def parameter_backtest_run(*, backtest_id: int) -> ParameterBacktest:
    """Replay the version and the baseline over the period, saving progress as it goes."""
    backtest = ParameterBacktest.objects.select_related("version", "baseline", "partner").get(
        pk=backtest_id
    )
    if backtest.state not in (BacktestState.QUEUED, BacktestState.RUNNING):
        return backtest
    versions = [of_version(backtest.version)]
    if backtest.baseline_id != backtest.version_id:
        versions.append(of_version(backtest.baseline))
    after, before = backtest.occurred_after, backtest.occurred_before
    scans = {v.number: scan_untils(after, before, v.window) for v in versions}
    backtest.total = selectors.transfers_count(
        partner_id=backtest.partner_id, after=after, before=before
    ) + sum(len(untils) for untils in scans.values())
    backtest.processed = 0
    backtest.state = BacktestState.RUNNING
    backtest.started_at = timezone.now()
    backtest.save(update_fields=["total", "processed", "state", "started_at"])

    def progress(done: int) -> None:
        backtest.processed = min(backtest.total, backtest.processed + done)
        ParameterBacktest.objects.filter(pk=backtest.pk).update(processed=backtest.processed)

    try:
        sides = [_Side(version, []) for version in versions]
        chunk: list[Edge] = []
        for edge in selectors.transfers_between(
            partner_id=backtest.partner_id, after=after, before=before
        ):
            chunk.append(edge)
            if len(chunk) == CHUNK:
                _search(sides, chunk, progress)
                chunk = []
        if chunk:
            _search(sides, chunk, progress)
        for side in sides:
            started = time.perf_counter()
            side.found += rings_replayed(
                partner_id=backtest.partner_id,
                untils=scans[side.version.number],
                parameters=side.version.window,
                progress=progress,
            )
            side.scan_seconds = time.perf_counter() - started
        backtest.result = _result(backtest, sides[0], sides[-1], scans)
        backtest.state = BacktestState.DONE
    except Exception as error:
        logger.exception("Parameter back-test %s failed", backtest.pk)
        backtest.state = BacktestState.FAILED
        backtest.error = f"{type(error).__name__}: {error}"[:2000]
    backtest.finished_at = timezone.now()
    backtest.save(update_fields=["result", "state", "error", "finished_at"])
    return backtest


def _search(sides: list[_Side], chunk: list[Edge], progress: Callable[[int], None]) -> None:
    for side in sides:
        started = time.perf_counter()
        side.found += searches_replayed(chunk, side.version.searches)
        side.search_seconds += time.perf_counter() - started
    progress(len(chunk))


def _result(
    backtest: ParameterBacktest, draft: _Side, base: _Side, scans: dict[int | None, list]
) -> dict:
    """Counts per kind side by side, what is new and no longer found (with samples), the
    accounts and transactions named, and the time each side took."""
    kinds, samples = [], []
    for kind, label in KINDS.items():
        mine, theirs = draft.of_kind(kind), base.of_kind(kind)
        new, lost = _unmatched(mine, theirs), _unmatched(theirs, mine)
        samples += new[:SAMPLES] + lost[:SAMPLES]
        kinds.append(
            {
                "kind": kind,
                "label": label,
                "version": len(mine),
                "baseline": len(theirs),
                "new": len(new),
                "lost": len(lost),
                "new_samples": new[:SAMPLES],  # made JSON below, once the names are read
                "lost_samples": lost[:SAMPLES],
            }
        )
    named = _names(backtest.partner_id, samples)
    for row in kinds:
        for key in ("new_samples", "lost_samples"):
            row[key] = [_sample(found, named) for found in row[key]]
    accounts, base_accounts = draft.accounts(), base.accounts()
    transactions, base_transactions = draft.transactions(), base.transactions()
    return {
        "version": draft.version.number,
        "baseline": base.version.number,
        "transfers": backtest.total - sum(len(untils) for untils in scans.values()),
        "scans": {str(number): len(untils) for number, untils in scans.items()},
        "kinds": kinds,
        "accounts": _sets(accounts, base_accounts),
        "transactions": _sets(transactions, base_transactions),
        "seconds": {
            "version": {
                "searches": round(draft.search_seconds, 2),
                "scan": round(draft.scan_seconds, 2),
            },
            "baseline": {
                "searches": round(base.search_seconds, 2),
                "scan": round(base.scan_seconds, 2),
            },
        },
    }


def _sets(mine: set, theirs: set) -> dict[str, int]:
    return {
        "version": len(mine),
        "baseline": len(theirs),
        "new": len(mine - theirs),
        "lost": len(theirs - mine),
    }


@dataclass
class _Names:
    accounts: set[str]  # the partner's own (they have a page)
    references: dict[object, str]  # transaction id -> the partner's id for it


def _names(partner_id: int, samples: list[Found]) -> _Names:
    """The names the samples show: one query for the accounts, one for the transactions."""
    members = {member for found in samples for member in sorted(found.members)[:SAMPLE_NAMES]}
    ids = {tx_id for found in samples for tx_id in _first(found.transactions)}
    ids |= {found.through for found in samples if found.through is not None}
    return _Names(
        selectors.partner_accounts(partner_id=partner_id, external_ids=sorted(members)),
        selectors.transaction_references(transaction_ids=list(ids)),
    )


def _first(transactions: set) -> list:
    return sorted(transactions, key=str)[:SAMPLE_NAMES]


def _sample(found: Found, named: _Names) -> dict:
    return {
        "through": _transaction(found.through, named) if found.through is not None else None,
        "hub": found.hub,
        "members": [
            {"id": member, "page": member in named.accounts}
            for member in sorted(found.members)[:SAMPLE_NAMES]
        ],
        "more_members": max(0, len(found.members) - SAMPLE_NAMES),
        "transactions": [_transaction(tx_id, named) for tx_id in _first(found.transactions)],
        "more_transactions": max(0, len(found.transactions) - SAMPLE_NAMES),
        "first_at": found.first_at.isoformat(),
        "last_at": found.last_at.isoformat(),
    }


def _transaction(tx_id: object, named: _Names) -> dict[str, str]:
    return {"id": str(tx_id), "reference": named.references.get(tx_id, str(tx_id))}
