"""The demo population of ``seed_demo``: three partners' customers and a month of their money.

Pure functions over one ``random.Random(seed)``: the same seed, size and window give the same
payloads byte for byte, so running the command again is a replay (duplicates, never conflicts)
and the generator is tested without a database. Payloads have the ingest contract's shape and
are stored through the same service as the API. Every laundering and fraud typology the default
rule pack knows is planted among ordinary lives on a few customers of each partner, tagged
``metadata.demo_typology``, so rules have something real to find and ``detection_report`` has
ground truth to measure them against.

``base`` holds the building blocks (partners, parties, drafts, random helpers), ``lives`` the
ordinary customers (and the legitimate activity that resembles a typology), ``typologies`` the
planted patterns; this module puts them together.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from .base import (
    ACTORS_PER_TYPOLOGY,
    CASH_REPORTING_THRESHOLD,
    HIGH_RISK_COUNTRIES,
    MIN_CUSTOMERS,
    PARTNERS,
    SANCTIONED_PARTIES,
    SEED_KEY,
    TYPOLOGY_KEY,
    WINDOW_END_KEY,
    Counterparty,
    DemoCustomer,
    DemoPartner,
    PlantedTypology,
    Population,
    _Draft,
    _iso,
)
from .lives import MERCHANTS, _customers, _ordinary_day
from .typologies import TYPOLOGIES, _plant_typologies, dormant_account

__all__ = [
    "ACTORS_PER_TYPOLOGY",
    "CASH_REPORTING_THRESHOLD",
    "HIGH_RISK_COUNTRIES",
    "MERCHANTS",
    "MIN_CUSTOMERS",
    "PARTNERS",
    "SANCTIONED_PARTIES",
    "SEED_KEY",
    "TYPOLOGIES",
    "TYPOLOGY_KEY",
    "WINDOW_END_KEY",
    "Counterparty",
    "DemoCustomer",
    "DemoPartner",
    "PlantedTypology",
    "Population",
    "dormant_account",
    "generate",
]


def generate(*, seed: int, customers: int, days: int, end: datetime) -> Population:
    """Everything ``seed_demo`` stores, for ``days`` days up to (not including) ``end``."""
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"The demo needs at least {MIN_CUSTOMERS} customers.")
    if days < 1:
        raise ValueError("The demo needs at least one day.")
    rng = random.Random(seed)
    end = end.astimezone(UTC).replace(microsecond=0)
    start = end - timedelta(days=days)
    people = _customers(rng, seed, customers)
    dates = _dates(start, end)
    drafts: list[_Draft] = []
    for customer in people:
        peers = tuple(p for p in people if p.partner is customer.partner and p is not customer)
        for day in dates:
            drafts += _ordinary_day(rng, customer, peers, day)
    planted, typology_drafts = _plant_typologies(rng, people, start, end)
    payloads = _number(drafts + typology_drafts, seed=seed, start=start, end=end)
    return Population(window_end=end, customers=people, payloads=payloads, typologies=planted)


def _number(
    drafts: list[_Draft], *, seed: int, start: datetime, end: datetime
) -> dict[str, list[dict]]:
    """Contract payloads per partner, oldest first, with external ids that follow that order."""
    common = {SEED_KEY: seed, WINDOW_END_KEY: _iso(end)}
    payloads: dict[str, list[dict]] = {partner.name: [] for partner in PARTNERS}
    for draft in sorted(drafts, key=lambda d: d.moment):
        if not (start <= draft.moment or draft.history) or draft.moment >= end:
            continue
        own = payloads[draft.partner.name]
        fields = dict(draft.fields)
        metadata = {**common, **fields.pop("metadata", {})}
        own.append(
            {
                "external_id": f"demo-{seed}-{draft.partner.code}-{len(own) + 1:06d}",
                "occurred_at": _iso(draft.moment),
                **fields,
                "metadata": metadata,
            }
        )
    return payloads


def _dates(start: datetime, end: datetime) -> list[date]:
    return [start.date() + timedelta(days=n) for n in range((end.date() - start.date()).days + 1)]
