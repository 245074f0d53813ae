"""Proximity to known-bad accounts, end to end: gather each partner's seeds (watch lists, cases
closed with a filed SAR, transfers the partner confirmed as fraud) and have the network app
walk its graph from them (sentinel.network.proximity).

Network analytics may not read rules' lists, cases or labels, so this module, above all of
them, gathers the seeds and hands them down, as rings.py does for the window scan's alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sentinel.network.proximity import ProximityParameters
from sentinel.network.services import account_proximity_store

from .selectors import flagged_accounts


def proximity_refresh(
    *,
    partner_id: int,
    accounts: Sequence[str] | None = None,
    until: datetime | None = None,
    parameters: ProximityParameters | None = None,
) -> int:
    """Recompute the partner's proximity from all its seeds (``accounts`` None: the schedule,
    or a flag lifted), or only from those of ``accounts`` that are seeds now (a new flag: the
    accounts within its bound come nearer, nothing else changes); accounts written."""
    seeds = flagged_accounts(partner_id=partner_id)
    if accounts is not None:
        wanted = set(accounts)
        seeds = [seed for seed in seeds if seed.account in wanted]
        if not seeds:
            return 0
    return account_proximity_store(
        partner_id=partner_id,
        seeds=seeds,
        extend=accounts is not None,
        until=until,
        parameters=parameters,
    )
