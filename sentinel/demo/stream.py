"""Live demo traffic: the customers of ``seed_demo`` going on with their lives, as of now.

``live_traffic`` is an endless iterator of ingest-contract payloads that ``manage.py
demo_traffic`` signs and sends, so a newcomer who opens the investigator's page sees alerts
arrive. It is pure and seeded like the rest of the package: the same seed, run id and clock give
the same payloads, and it is tested without a database.

The customers are the seeded population's (seed 7, 300 customers by default: the same
``generate`` builds them), so accounts already have a month of history and profiles, and
ordinary payments look ordinary. Each *round* is one fresh day of that population's lives, with
its own random stream (seed, run and round number), so no two rounds are alike: each round,
every typology the rule pack knows is planted on one customer, chosen afresh among ``generate``'s
candidates (any partner).

Time compression: a round replays one calendar day (round k is day k after the first day, so
paydays and bills come when they would), but a day of 300 customers is only about 600 payments,
so at the default 3 per second one day passes in about three and a half minutes (some 400 times
faster than life), with one pattern of each typology in it: a few suspicious patterns a minute.
Every payload is re-stamped ``occurred_at`` = the second it leaves the iterator, never later.
The payloads of one planted pattern (a structuring series, a velocity burst, a fan-in and its
wire abroad...) are kept together and sent one after the other, at the place in the day where
the pattern starts: a pattern spread over hours or days in ``generate`` happens within seconds
here, so its rule fires as soon as it is sent, inside any rule window. The one exception is a
dormant account's old activity, which keeps its age (months before the reactivation) so the
account really was dormant; each round wakes a dormant account of its own.

The same compression applies to ordinary customers: at 3 per second each of 300 customers pays
about 36 times an hour. Few of those are transfers, so the velocity rules stay quiet, but after
some hours the 24- and 48-hour rules see some ordinary customers as busier than they are and a
few false alarms appear: the price of a demo that moves (a lower ``--rate`` postpones them).

Payloads carry ``metadata.demo_live`` (the run id) instead of ``seed_demo``'s window keys, so a
later ``seed_demo`` never mistakes live traffic for the window it replays; planted payloads keep
``metadata.demo_typology``. External ids are ``live-<run>-<n>``, unique across rounds and, with
a fresh run id per start, across restarts.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from .base import TYPOLOGY_KEY, DemoCustomer, _Draft, _iso
from .lives import _customers, _ordinary_day
from .typologies import _plant_typologies

DEFAULT_SEED = 7  # seed_demo's default population
DEFAULT_CUSTOMERS = 300
LIVE_KEY = "demo_live"
_DORMANT = "dormant_reactivation"

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class LivePayload:
    partner: str  # the demo partner's name: whose key signs it
    payload: dict
    typology: str | None  # the planted typology it belongs to, None for ordinary activity


def utc_now() -> datetime:
    return datetime.now(UTC)


def live_traffic(
    *,
    run: str,
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    clock: Clock = utc_now,
    first_day: date | None = None,
) -> Iterator[LivePayload]:
    """Endless payloads, each stamped with ``clock()`` when it is taken from the iterator."""
    people = _customers(random.Random(seed), seed, customers)  # generate()'s first draw
    peers = {
        customer.customer_id: tuple(
            p for p in people if p.partner is customer.partner and p is not customer
        )
        for customer in people
    }
    day = first_day or clock().date()
    sent = 0
    for round_number in range(1_000_000_000):
        rng = random.Random(f"demo-live:{seed}:{run}:{round_number}")
        for typology, drafts in _day(rng, people, peers, day + timedelta(days=round_number)):
            if typology == _DORMANT:
                drafts = _fresh_dormant_account(drafts, f"{run}-{round_number}")
            anchor = _first_live(drafts)
            for draft in drafts:
                sent += 1
                now = clock().astimezone(UTC).replace(microsecond=0)
                moment = now - (anchor - draft.moment) if draft.moment < anchor else now
                yield LivePayload(
                    partner=draft.partner.name,
                    payload=_payload(draft, external_id=f"live-{run}-{sent}", at=moment, run=run),
                    typology=typology,
                )


def _day(
    rng: random.Random,
    people: tuple[DemoCustomer, ...],
    peers: dict[str, tuple[DemoCustomer, ...]],
    day: date,
) -> list[tuple[str | None, list[_Draft]]]:
    """One day of the population in time order: single ordinary drafts, and one planted
    pattern of each typology as one cluster, placed where its first live payment falls."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    ordinary = [
        draft
        for customer in people
        for draft in _ordinary_day(rng, customer, peers[customer.customer_id], day)
        if start <= draft.moment < end
    ]
    _, planted = _plant_typologies(rng, people, start, end)
    patterns: dict[str, dict[str, list[_Draft]]] = {}  # typology -> account -> its payments
    for draft in planted:
        typology = draft.fields["metadata"][TYPOLOGY_KEY]
        patterns.setdefault(typology, {}).setdefault(_customer_account(draft), []).append(draft)
    # One actor per typology and day: a suspicious pattern every half minute or so, not a flood.
    chosen = {
        typology: rng.choice(list(by_account.values())) for typology, by_account in patterns.items()
    }
    items = [(draft.moment, None, [draft]) for draft in ordinary] + [
        (_first_live(drafts), typology, sorted(drafts, key=lambda d: d.moment))
        for typology, drafts in chosen.items()
    ]
    items.sort(key=lambda item: item[0])  # stable: ties keep generation order
    return [(typology, drafts) for _, typology, drafts in items]


def _first_live(drafts: list[_Draft]) -> datetime:
    """When a pattern starts: its first payment that is not a dormant account's old history."""
    return next((d.moment for d in drafts if not d.history), drafts[-1].moment)


def _customer_account(draft: _Draft) -> str:
    side = "originator" if draft.fields["direction"] == "outbound" else "beneficiary"
    return draft.fields[side]["account_id"]


def _fresh_dormant_account(drafts: list[_Draft], suffix: str) -> list[_Draft]:
    """The same customer's dormant account, under an id no earlier round has woken up."""
    renamed = []
    for draft in drafts:
        side = "originator" if draft.fields["direction"] == "outbound" else "beneficiary"
        account = f"{draft.fields[side]['account_id']}-{suffix}"
        fields = {**draft.fields, side: {**draft.fields[side], "account_id": account}}
        renamed.append(replace(draft, fields=fields))
    return renamed


def _payload(draft: _Draft, *, external_id: str, at: datetime, run: str) -> dict:
    fields = dict(draft.fields)
    metadata = {LIVE_KEY: run, **fields.pop("metadata", {})}
    return {"external_id": external_id, "occurred_at": _iso(at), **fields, "metadata": metadata}
