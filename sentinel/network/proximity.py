"""Proximity to known-bad accounts: a bounded, multi-source breadth-first walk over a partner's
transfer graph from its *seeds* (watch-listed accounts, accounts in filed SARs, accounts the
partner confirmed as fraud), each account reached keeping its nearest seed and the path to it.

The walk is pure code over a ``neighbours`` function (one query per level in production,
``counterparts_within``; a dict in the unit tests). The pipeline gathers the seeds (network
may not read lists, cases or labels) and the services store what the walk reached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings

from transactions.models import Transaction

from .choices import SeedReason
from .models import PROXIMITY_MAX_HOPS
from .selectors import Proximity

# A node with more counterparties than this in the window passes no proximity on: a payment
# processor, a payroll bureau or a big merchant touches everyone, and "paid the same processor
# as a mule" says nothing. The same bound as the window scan's bipartite degree (window.py).
# The installed parameter version's value (``proximity_hub_counterparties``); this default
# serves only where no version exists (the walk's pure tests).
HUB_COUNTERPARTIES = 50

# When an account is a seed for several reasons, the one named: our own filed report first,
# then what the bank holding the account confirmed, then a list.
REASON_RANK = {SeedReason.SAR: 0, SeedReason.FEEDBACK: 1, SeedReason.LIST: 2}

# Not names rules can write: the texts explanations show after the proximity fields' values.
HOPS_NOTE, COUNTERPARTY_NOTE = "network.hops_to_flagged:note", "network.flagged_counterparty:note"

Neighbours = Callable[[Sequence[str]], Mapping[str, Sequence[str]]]


@dataclass(frozen=True)
class Seed:
    """A known-bad account and why: ``note`` says which list, case or feedback."""

    account: str
    reason: str
    note: str

    @property
    def rank(self) -> tuple[int, str]:
        return REASON_RANK[SeedReason(self.reason)], self.account


@dataclass(frozen=True)
class Reach:
    """An account within the bound: its hops to ``seed`` along ``path`` (itself … the seed)."""

    account: str
    hops: int
    seed: Seed
    path: tuple[str, ...]


@dataclass(frozen=True)
class ProximityParameters:
    max_hops: int = PROXIMITY_MAX_HOPS
    hub_counterparties: int = HUB_COUNTERPARTIES
    window_days: int = 0  # 0: the graph's retention (SENTINEL_NETWORK_RETENTION_DAYS)

    def __post_init__(self) -> None:
        if not 1 <= self.max_hops <= PROXIMITY_MAX_HOPS:
            raise ValueError(f"max_hops must be 1 to {PROXIMITY_MAX_HOPS}, not {self.max_hops}")
        if self.hub_counterparties < 1 or self.window_days < 0:
            raise ValueError("hub_counterparties must be positive and window_days not negative")

    def since(self, until: datetime) -> datetime:
        return until - timedelta(days=self.window_days or settings.SENTINEL_NETWORK_RETENTION_DAYS)


def seeds_merged(seeds: Iterable[Seed]) -> list[Seed]:
    """One seed per account, under its highest-ranking reason; in rank order."""
    best: dict[str, Seed] = {}
    for seed in seeds:
        if seed.account and (seed.account not in best or seed.rank < best[seed.account].rank):
            best[seed.account] = seed
    return sorted(best.values(), key=lambda seed: seed.rank)


def proximity_reach(
    seeds: Iterable[Seed], neighbours: Neighbours, parameters: ProximityParameters
) -> dict[str, Reach]:
    """Every account within ``max_hops`` of a seed, with its nearest seed (ties go to the
    higher-ranking seed). ``neighbours`` gives, per node, its distinct counterparties in the
    window, at most ``hub_counterparties + 1`` of them: a node with more is a hub, reached but
    not walked through (a seed that is a hub included: its own transfers still name it, see
    the ``network.flagged_counterparty`` feature)."""
    reached: dict[str, Reach] = {}
    for seed in seeds_merged(seeds):
        reached[seed.account] = Reach(seed.account, 0, seed, (seed.account,))
    frontier = list(reached)
    for hops in range(1, parameters.max_hops + 1):
        if not frontier:
            break
        adjacent = neighbours(frontier)
        following = []
        for node in frontier:  # in rank order: the best seed claims a node first
            others = adjacent.get(node, ())
            if len(others) > parameters.hub_counterparties:
                continue
            via = reached[node]
            for other in sorted(others):
                if other not in reached:
                    reached[other] = Reach(other, hops, via.seed, (other, *via.path))
                    following.append(other)
        frontier = following
    return reached


# --- The features (``network.hops_to_flagged``, ``network.flagged_counterparty``) ---------------


def proximity_keys(transactions: Sequence[Transaction]) -> list[tuple[int, str]]:
    """The (partner, account) pairs whose stored proximity the features read: both sides."""
    return [
        (tx.partner_id, account)
        for tx in transactions
        for account in (tx.account_external_id, counterparty_account(tx))
    ]


def counterparty_account(tx: Transaction) -> str:
    return getattr(tx, f"{tx.counterparty_side}_account_id") or ""


def _none_near(max_hops: int) -> str:
    return f"none within {max_hops} hops"


def proximity_fields(
    tx: Transaction,
    proximity: Mapping[tuple[int, str], Proximity],
    *,
    accounts: tuple[str, str] | None = None,
    max_hops: int = PROXIMITY_MAX_HOPS,
) -> dict[str, object]:
    """The proximity fields of one transaction from the stored proximity of its two accounts
    (walked within ``max_hops``, the version in force's; ``accounts``: its own and its
    counterparty's, when the caller has them already). The transfer itself counts at once:
    paying or being paid by a seed is 1 hop, whenever the stored proximity was last
    computed."""
    if not proximity:  # neither account near a known-bad one (most batches: nothing stored)
        return {
            "network.hops_to_flagged": None,
            HOPS_NOTE: _none_near(max_hops),
            "network.flagged_counterparty": False,
            COUNTERPARTY_NOTE: "",
        }
    own_account, counterparty = accounts or (tx.account_external_id, counterparty_account(tx))
    own = proximity.get((tx.partner_id, own_account))
    other = proximity.get((tx.partner_id, counterparty))
    flagged = other is not None and other.hops == 0 and counterparty != own_account
    hops, path = (own.hops, own.path) if own else (None, [])
    if flagged and (hops is None or hops > 1):
        hops, path, own = 1, [own_account, counterparty], other
    return {
        "network.hops_to_flagged": None if hops is None else Decimal(hops),
        HOPS_NOTE: _seed_note(own, path) if own else _none_near(max_hops),
        "network.flagged_counterparty": flagged,
        COUNTERPARTY_NOTE: _seed_note(other, []) if flagged else "",
    }


def _seed_note(proximity: Proximity, path: list[str]) -> str:
    """Which account is the nearest known-bad one, why, and the way to it."""
    reason = SeedReason(proximity.seed_reason).label.lower()
    text = f"{proximity.seed}: {reason}"
    if proximity.seed_note:
        text += f", {proximity.seed_note}"
    if len(path) > 1:
        text += f"; via {' → '.join(path)}"
    return f"({text})"
