"""The typologies planted among ordinary lives: one planter per typology, and who gets which.

Each planter returns one customer's pattern, inside [start, end) except a dormant account's
history. The values the rules look for are typical of the typology, not tuned to one rule:
docs/detection.md says what each is modelled on.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from .base import (
    _BANKS,
    _FAN_IN_DESTINATIONS,
    _FIRST_NAMES,
    _LAST_NAMES,
    _TRANSFER_FAILURES,
    ACTORS_PER_TYPOLOGY,
    CASH_REPORTING_THRESHOLD,
    HIGH_RISK_COUNTRIES,
    PARTNERS,
    SANCTIONED_PARTIES,
    TYPOLOGY_KEY,
    Counterparty,
    DemoCustomer,
    PlantedTypology,
    _Draft,
    _draft,
    _latency,
    _lognormal,
    _moments_within,
    _round_to,
    _status,
    _stranger,
)

_COMPANY_WORDS = (
    "Apex", "Silverline", "Northstar", "Meridian", "Bluewater", "Crescent", "Summit", "Keystone",
)  # fmt: skip
_COMPANY_KINDS = ("Trading", "Consulting", "Logistics", "Holdings", "Import Export", "Ventures")
_COMPANY_SUFFIXES = {"AE": "FZE", "HK": "Ltd", "CY": "Ltd", "TR": "A.S.", "GB": "Ltd"}
Planter = Callable[[random.Random, DemoCustomer, datetime, datetime], list[_Draft]]


def _tag(typology: str) -> dict[str, str]:
    return {TYPOLOGY_KEY: typology}


def _company(rng: random.Random, country: str) -> Counterparty:
    """A company abroad with a forgettable name: the usual front for layering."""
    name = f"{rng.choice(_COMPANY_WORDS)} {rng.choice(_COMPANY_KINDS)}"
    return Counterparty(
        f"{name} {_COMPANY_SUFFIXES.get(country, 'Ltd')}",
        f"X{rng.getrandbits(40):010X}",
        country,
        rng.choice(_BANKS[country]),
    )


def _foreign_device(rng: random.Random) -> dict[str, str]:
    """A device and address the customer never used: someone else at the controls."""
    return {
        "device_id": f"dev-{rng.getrandbits(40):010x}",
        "ip_address": f"198.18.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
    }


def _shares(rng: random.Random, parts: int, total: float) -> list[float]:
    """``total`` split into ``parts`` uneven amounts."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    return [total * weight / sum(weights) for weight in weights]


# fmt: off


def _large_cash(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """Cash over the reporting threshold in one go: paid in at the branch, or taken out."""
    (moment,) = _moments_within(rng, 1, timedelta(hours=1), start, end)
    deposit = rng.random() < 0.7
    return [_draft(
        customer, moment, kind="cash_deposit" if deposit else "cash_withdrawal",
        amount=_round_to(rng.uniform(1.02, 4.0) * CASH_REPORTING_THRESHOLD, 50),
        status="approved", direction="inbound" if deposit else "outbound", channel="branch",
        latency_ms=_latency(rng, 700), metadata=_tag("large_cash"),
    )]


def _structuring(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """Several cash deposits just under the reporting threshold, spread over a few days."""
    moments = _moments_within(rng, rng.randint(4, 6), timedelta(days=4), start, end)
    return [
        _draft(
            customer, moment, kind="cash_deposit", amount=rng.randrange(9100, 9960, 10),
            status="approved", direction="inbound",
            channel=rng.choices(("branch", "atm"), (4, 1))[0],
            latency_ms=_latency(rng, 700), metadata=_tag("structuring"),
        )
        for moment in moments
    ]


def _velocity(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """A taken-over account drained by dozens of transfers within the hour, to a few accounts."""
    span = timedelta(minutes=rng.randint(25, 55))
    moments = _moments_within(rng, rng.randint(25, 45), span, start, end)
    payees = [_stranger(rng, customer.partner.country) for _ in range(rng.randint(2, 4))]
    device = _foreign_device(rng)
    return [
        _draft(
            customer, moment, kind=rng.choice(("transfer", "p2p")),
            amount=_lognormal(rng, 180, 0.5), status=_status(rng, _TRANSFER_FAILURES),
            direction="outbound", counterparty=rng.choice(payees).party(), channel="mobile",
            **device, latency_ms=_latency(rng, 260), metadata=_tag("velocity"),
        )
        for moment in moments
    ]


def _fan_in(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """A mule account: many small p2p from strangers, then nearly all of it wired abroad."""
    country, tag = customer.partner.country, _tag("fan_in")
    *arrivals, departure = _moments_within(
        rng, rng.randint(11, 16), timedelta(hours=40), start, end
    )
    # Distinct first names: every sender is a different person, as in a real fan-in.
    senders = [
        Counterparty(
            f"{first} {rng.choice(_LAST_NAMES)}", f"X{rng.getrandbits(40):010X}", country,
            rng.choice(_BANKS[country]),
        )
        for first in rng.sample(_FIRST_NAMES, len(arrivals))
    ]
    drafts = [
        _draft(
            customer, moment, kind="p2p", amount=_lognormal(rng, 420, 0.35), status="approved",
            direction="inbound", counterparty=sender.party(), channel="mobile",
            latency_ms=_latency(rng, 250), metadata=tag,
        )
        for moment, sender in zip(arrivals, senders, strict=True)
    ]
    collected = sum(Decimal(draft.fields["amount"]) for draft in drafts)
    drafts.append(_draft(
        customer, departure, kind="wire", amount=float(collected) * 0.95, status="approved",
        direction="outbound",
        counterparty=_stranger(rng, rng.choice(_FAN_IN_DESTINATIONS)).party(), channel="web",
        **customer.device(), latency_ms=_latency(rng, 1500), metadata=tag,
    ))
    return drafts


def _fan_out(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """Money spread within a day to many people the customer never paid before."""
    span = timedelta(hours=rng.randint(4, 20))
    moments = _moments_within(rng, rng.randint(10, 18), span, start, end)
    country = customer.partner.country
    return [
        _draft(
            customer, moment, kind=rng.choice(("p2p", "p2p", "transfer")),
            amount=_round_to(rng.uniform(250, 950), 5), status=_status(rng, _TRANSFER_FAILURES),
            direction="outbound", counterparty=_stranger(rng, country).party(),
            channel=rng.choice(("mobile", "web")), **customer.device(),
            latency_ms=_latency(rng, 260), metadata=_tag("fan_out"),
        )
        for moment in moments
    ]


def _pass_through(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """A large credit from a company abroad, then nearly all of it sent on within hours."""
    tag, onward = _tag("pass_through"), rng.randint(2, 4)
    arrival, *departures = _moments_within(
        rng, onward + 1, timedelta(hours=rng.uniform(2, 18)), start, end
    )
    received = _round_to(rng.uniform(15_000, 80_000), 10)
    drafts = [_draft(
        customer, arrival, kind="wire", amount=received, status="approved", direction="inbound",
        counterparty=_company(rng, rng.choice(_FAN_IN_DESTINATIONS)).party(), channel="web",
        latency_ms=_latency(rng, 1500), metadata=tag,
    )]
    for moment, amount in zip(
        departures, _shares(rng, onward, received * rng.uniform(0.93, 0.98)), strict=True
    ):
        abroad = rng.random() < 0.5
        payee = (
            _company(rng, rng.choice(_FAN_IN_DESTINATIONS)) if abroad
            else _stranger(rng, customer.partner.country)
        )
        drafts.append(_draft(
            customer, moment, kind="wire" if abroad else "transfer", amount=amount,
            status="approved", direction="outbound", counterparty=payee.party(),
            channel="web", **customer.device(), latency_ms=_latency(rng, 1200), metadata=tag,
        ))
    return drafts


def _high_risk_wire(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """One large wire to a jurisdiction on the FATF lists."""
    (moment,) = _moments_within(rng, 1, timedelta(hours=1), start, end)
    return [_draft(
        customer, moment, kind="wire", amount=_round_to(rng.uniform(12_000, 45_000), 100),
        status="approved", direction="outbound",
        counterparty=_stranger(rng, rng.choice(HIGH_RISK_COUNTRIES)).party(), channel="branch",
        latency_ms=_latency(rng, 1500), metadata=_tag("high_risk_country"),
    )]


def _list_hit(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """Payments to a party on the sanctions list, its name spelled otherwise than the list's."""
    _, spelled = rng.choice(SANCTIONED_PARTIES)
    country = rng.choice(_FAN_IN_DESTINATIONS)
    payee = Counterparty(
        spelled, f"X{rng.getrandbits(40):010X}", country, rng.choice(_BANKS[country])
    )
    moments = _moments_within(rng, rng.randint(1, 2), timedelta(days=6), start, end)
    return [
        _draft(
            customer, moment, kind="wire", amount=_round_to(_lognormal(rng, 4000, 0.6), 10),
            status="approved", direction="outbound", counterparty=payee.party(),
            channel=rng.choice(("web", "branch")), **customer.device(),
            latency_ms=_latency(rng, 1500), metadata=_tag("list_hit"),
        )
        for moment in moments
    ]


_TESTED_MERCHANTS = (
    ("Helping Hands Donations", "8398"), ("PixelPlay Credits", "5816"),
    ("QuickTip Gratuities", "7299"),
)


def _card_testing(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """A stolen card number tried with a burst of tiny online payments, most of them declined."""
    count = rng.randint(10, 30)
    moments = _moments_within(rng, count, timedelta(minutes=rng.randint(2, 8)), start, end)
    declined = set(rng.sample(range(count), round(count * rng.uniform(0.6, 0.9))))
    name, mcc = rng.choice(_TESTED_MERCHANTS)
    merchant = {"account_id": f"MID-9{rng.randrange(10_000):04d}", "name": name, "country": "US"}
    card = {
        "channel": "web", "product": customer.card_product, "acquirer": "acq-stripe",
        "card_type": customer.card_type, "mcc": mcc, **_foreign_device(rng),
    }
    return [
        _draft(
            customer, moment, kind="card_payment", amount=rng.randrange(50, 500) / 100,
            status=rng.choice(("denied", "denied", "failed")) if index in declined else "approved",
            direction="outbound", counterparty=merchant, **card, latency_ms=_latency(rng, 420),
            metadata=_tag("card_testing"),
        )
        for index, moment in enumerate(moments)
    ]


def _dormant(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """An old account of the customer, silent for more than half a year, suddenly receives a
    large sum and sends most of it on."""
    sleeper = replace(customer, accounts=(dormant_account(customer),))
    tag = _tag("dormant_reactivation")
    quiet_since = start - timedelta(days=rng.randint(200, 400))
    history = [
        replace(draft, history=True)
        for moment in _moments_within(
            rng, rng.randint(2, 4), timedelta(days=120), quiet_since - timedelta(days=200),
            quiet_since,
        )
        for draft in [_draft(
            sleeper, moment, kind="cash_deposit", amount=_round_to(_lognormal(rng, 150, 0.7), 5),
            status="approved", direction="inbound", channel="branch",
            latency_ms=_latency(rng, 500), metadata=tag,
        )]
    ]
    arrival, departure = _moments_within(rng, 2, timedelta(hours=rng.randint(2, 40)), start, end)
    received = _round_to(rng.uniform(6_000, 30_000), 10)
    return [*history, _draft(
        sleeper, arrival, kind="wire", amount=received, status="approved",
        direction="inbound", counterparty=_company(rng, rng.choice(_FAN_IN_DESTINATIONS)).party(),
        channel="web", latency_ms=_latency(rng, 1500), metadata=tag,
    ), _draft(
        sleeper, departure, kind="wire", amount=received * rng.uniform(0.85, 0.97),
        status="approved", direction="outbound",
        counterparty=_stranger(rng, rng.choice(_FAN_IN_DESTINATIONS)).party(), channel="web",
        **_foreign_device(rng), latency_ms=_latency(rng, 1500), metadata=tag,
    )]


def _round_amounts(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """Several large transfers in round thousands within a few days: no invoice has such sums."""
    moments = _moments_within(
        rng, rng.randint(3, 6), timedelta(days=rng.uniform(1, 5)), start, end
    )
    payees = [
        _company(rng, rng.choice(_FAN_IN_DESTINATIONS)) if rng.random() < 0.5
        else _stranger(rng, customer.partner.country)
        for _ in range(rng.randint(1, 3))
    ]
    drafts = []
    for moment in moments:
        payee = rng.choice(payees)
        local = payee.country == customer.partner.country
        drafts.append(_draft(
            customer, moment, kind="transfer" if local else "wire",
            amount=rng.randrange(5, 40) * 1000, status="approved", direction="outbound",
            counterparty=payee.party(), channel=rng.choice(("web", "branch")),
            **customer.device(), latency_ms=_latency(rng, 1200),
            metadata=_tag("round_amounts"),
        ))
    return drafts


# fmt: on


def dormant_account(customer: DemoCustomer) -> str:
    """The old account a dormant-reactivation pattern wakes up: "NW7-A0012-9"."""
    return f"{customer.accounts[0].rsplit('-', 1)[0]}-9"


# What is planted, in the order actors are handed out. The codes are the rule engine's
# typologies (rules.choices.Typology); plain strings keep the generator free of Django, and
# tests/test_rules_pack.py holds the two sets equal.
_PLANTERS: dict[str, Planter] = {
    "large_cash": _large_cash,
    "structuring": _structuring,
    "velocity": _velocity,
    "fan_in": _fan_in,
    "fan_out": _fan_out,
    "pass_through": _pass_through,
    "high_risk_country": _high_risk_wire,
    "list_hit": _list_hit,
    "card_testing": _card_testing,
    "dormant_reactivation": _dormant,
    "round_amounts": _round_amounts,
}

TYPOLOGIES = tuple(_PLANTERS)


def _plant_typologies(
    rng: random.Random, people: tuple[DemoCustomer, ...], start: datetime, end: datetime
) -> tuple[tuple[PlantedTypology, ...], list[_Draft]]:
    """Every typology on ``ACTORS_PER_TYPOLOGY`` customers of each partner (fewer, and shared,
    when the partner has too few customers); a customer never carries one typology twice."""
    planted, drafts = [], []
    for partner in PARTNERS:
        pool = [person for person in people if person.partner == partner]
        wanted = ACTORS_PER_TYPOLOGY * len(_PLANTERS)
        actors = rng.sample(pool, max(1, min(wanted, len(pool) // 2)))
        copies = min(ACTORS_PER_TYPOLOGY, len(actors))
        for index, (typology, plant) in enumerate(_PLANTERS.items()):
            for copy in range(copies):
                actor = actors[(index * copies + copy) % len(actors)]
                pattern = plant(rng, actor, start, end)
                account = _customer_side_account(pattern[-1])
                planted.append(
                    PlantedTypology(
                        typology, partner.name, actor.customer_id, account, len(pattern)
                    )
                )
                drafts += pattern
    return tuple(planted), drafts


def _customer_side_account(draft: _Draft) -> str:
    side = "originator" if draft.fields["direction"] == "outbound" else "beneficiary"
    return draft.fields[side]["account_id"]
