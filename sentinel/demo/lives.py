"""Ordinary lives: customers, their salaries, bills, shopping, friends, and the legitimate
activity that looks like a typology (so the rules' false alarms are measured too)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from .base import (
    _ACH_FAILURES,
    _ATM_FAILURES,
    _CARD_FAILURES,
    _CASH_FAILURES,
    _SALARY_FAILURES,
    _TRANSFER_FAILURES,
    _WIRE_FAILURES,
    CASH_REPORTING_THRESHOLD,
    PARTNERS,
    Bill,
    Counterparty,
    DemoCustomer,
    DemoPartner,
    _Draft,
    _draft,
    _latency,
    _local_business,
    _lognormal,
    _moment,
    _person_name,
    _poisson,
    _round_to,
    _status,
    _stranger,
)

_EMPLOYERS = (
    "Acme Logistics", "Bright Health Clinics", "Cobalt Software", "Delta Freight",
    "Evergreen Schools", "Fairway Retail Group", "Granite Construction Co", "Helix Labs",
    "City Council Payroll", "Orchard Foods",
)  # fmt: skip


@dataclass(frozen=True)
class Merchant:
    name: str
    mcc: str
    median: float
    sigma: float
    weight: float  # how often customers shop there
    acquirer: str
    online: bool = False
    country: str | None = None  # None: a local branch of the chain


MERCHANTS = (
    Merchant("FreshMart Supermarket", "5411", 62, 0.55, 14, "acq-fiserv"),
    Merchant("Corner Grocery", "5411", 24, 0.6, 10, "acq-worldpay"),
    Merchant("Blue Door Cafe", "5814", 8, 0.4, 14, "acq-square"),
    Merchant("Trattoria Luigi", "5812", 52, 0.45, 5, "acq-worldpay"),
    Merchant("QuickFuel", "5541", 48, 0.35, 7, "acq-fiserv"),
    Merchant("Wellness Pharmacy", "5912", 22, 0.7, 5, "acq-adyen"),
    Merchant("Metro Transit", "4111", 3, 0.25, 8, "acq-adyen"),
    Merchant("Threadline Apparel", "5651", 58, 0.6, 3, "acq-worldpay"),
    Merchant("Hammer & Nail Hardware", "5251", 38, 0.8, 2, "acq-fiserv"),
    Merchant("Volt Electronics", "5732", 140, 0.9, 1.5, "acq-fiserv"),
    Merchant("Harbourview Hotel", "7011", 190, 0.4, 0.7, "acq-adyen"),
    Merchant("RideNow", "4121", 17, 0.5, 5, "acq-stripe", online=True),
    Merchant("Shopwell Online", "5999", 45, 0.9, 8, "acq-stripe", online=True),
    Merchant("StreamBox", "4899", 13, 0.1, 2, "acq-stripe", online=True, country="IE"),
    Merchant("Skyline Airways", "4511", 280, 0.5, 0.6, "acq-adyen", online=True, country="GB"),
    Merchant("GameVault", "5816", 20, 0.6, 1, "acq-stripe", online=True, country="MT"),
)
_MERCHANT_WEIGHTS = tuple(merchant.weight for merchant in MERCHANTS)

# (payee, median monthly amount, sigma across customers, share of customers who pay it)
_BILLS = (
    ("Parkview Property Management", 1500, 0.35, 0.75),
    ("City Power & Light", 95, 0.3, 0.9),
    ("Clearline Mobile", 55, 0.25, 0.85),
    ("Fibrenet Internet", 60, 0.2, 0.6),
    ("Safeguard Insurance", 130, 0.4, 0.5),
    ("PulseFit Gym", 40, 0.2, 0.25),
)
_ATM_NOTES = (20, 40, 60, 80, 100, 200, 300, 400)
_ATM_NOTE_WEIGHTS = (10, 14, 10, 8, 16, 10, 4, 3)
_IP_PREFIXES = ("203.0.113", "198.51.100", "192.0.2")
# How often a customer sells investments and wires the proceeds to the notary the day they
# arrive: 1 % of customers a year. Some 3-4 % of households buy a home in a year (in the US
# about 4.8 million sales in 2023, for some 131 million households), most paying the deposit
# from savings or from the previous home's sale: a quarter of them doing it this way is generous.
_HOUSE_DEPOSITS_PER_DAY = 1 / 36_500
_WORKING_HOURS = tuple(range(8, 20))


def _customers(rng: random.Random, seed: int, total: int) -> tuple[DemoCustomer, ...]:
    counts = [int(total * partner.share) for partner in PARTNERS[1:]]
    counts.insert(0, total - sum(counts))
    return tuple(
        _customer(rng, partner, f"{partner.code}{seed}", number)
        for partner, count in zip(PARTNERS, counts, strict=True)
        for number in range(1, count + 1)
    )


def _customer(rng: random.Random, partner: DemoPartner, prefix: str, number: int) -> DemoCustomer:
    foreign_born = rng.random() < 0.12
    country = rng.choice(partner.origin_countries) if foreign_born else partner.country
    employed = rng.random() < 0.88
    employer_index = rng.randrange(len(_EMPLOYERS))
    card_product = rng.choice(partner.card_products)
    amex_share = 5 if card_product == "credit" else 0
    card_type = rng.choices(("visa", "mastercard", "amex"), (55, 40, amex_share))[0]
    account_count = rng.choice((1, 1, 1, 2))
    return DemoCustomer(
        partner=partner,
        customer_id=f"{prefix}-C{number:04d}",
        name=_person_name(rng),
        country=country,
        accounts=tuple(f"{prefix}-A{number:04d}-{k}" for k in range(1, account_count + 1)),
        employer=_employer(partner, employer_index) if employed else None,
        salary=_lognormal(rng, partner.salary_median, 0.45),
        payday=rng.choice((1, 15, 25, 28)),
        card_product=card_product,
        card_type=card_type,
        device_id=f"dev-{rng.getrandbits(40):010x}",
        ip_address=f"{rng.choice(_IP_PREFIXES)}.{rng.randint(1, 254)}",
        card_rate=_lognormal(rng, 1.0, 0.4),
        bills=tuple(
            Bill(_biller(partner, index, payee), _lognormal(rng, median, sigma), rng.randint(1, 28))
            for index, (payee, median, sigma, share) in enumerate(_BILLS)
            if rng.random() < share
        ),
        contacts=tuple(_stranger(rng, partner.country) for _ in range(rng.randint(2, 4))),
        remittance_day=rng.randint(1, 28) if foreign_born and rng.random() < 0.6 else None,
        sends_wire_abroad=rng.random() < 0.04,
        **_lookalikes(rng, partner, employed),
    )


def _lookalikes(rng: random.Random, partner: DemoPartner, employed: bool) -> dict[str, object]:
    """Half the self-employed are paid by their clients through p2p (hairdressers, tutors,
    cleaners): many senders, like a mule's fan-in, but regulars, and the money stays."""
    trader = not employed and rng.random() < 0.5
    return {
        "clients": (
            tuple(_stranger(rng, partner.country) for _ in range(rng.randint(15, 50)))
            if trader
            else ()
        ),
        "client_rate": _lognormal(rng, 2.0, 0.4) if trader else 0.0,
        "gamer": rng.random() < 0.06,
    }


def _employer(partner: DemoPartner, index: int) -> Counterparty:
    return _local_business(partner, _EMPLOYERS[index], f"{partner.code}-EMP{index:03d}", index)


def _biller(partner: DemoPartner, index: int, name: str) -> Counterparty:
    return _local_business(partner, name, f"{partner.code}-BILL{index:03d}", index)


def _ordinary_day(
    rng: random.Random, customer: DemoCustomer, peers: tuple[DemoCustomer, ...], day: date
) -> list[_Draft]:
    weekend = 1.25 if day.weekday() >= 5 else 1
    drafts = [
        draft
        for _ in range(_poisson(rng, customer.card_rate * weekend))
        for draft in _card_payment(rng, customer, day)
    ]
    if customer.employer and day.day == customer.payday:
        drafts.append(_salary(rng, customer, day))
        if len(customer.accounts) > 1:
            drafts.append(_savings_transfer(rng, customer, day))
    drafts += [_bill(rng, customer, bill, day) for bill in customer.bills if bill.day == day.day]
    if rng.random() < 0.06:
        drafts.append(_p2p_out(rng, customer, peers, day))
    if rng.random() < 0.04:
        drafts.append(_p2p_in(rng, customer, day))
    if rng.random() < 0.07:
        drafts.append(_atm_withdrawal(rng, customer, day))
    if customer.employer is None and day.weekday() == 4:
        drafts.append(_takings_deposit(rng, customer, day))
    if day.day == customer.remittance_day:
        drafts.append(_wire_abroad(rng, customer, day, median=600, to=customer.country))
    if customer.sends_wire_abroad and rng.random() < 1 / 30:
        to = rng.choice(customer.partner.origin_countries)
        drafts.append(_wire_abroad(rng, customer, day, median=2500, to=to))
    return drafts + _lookalike_day(rng, customer, day)


def _lookalike_day(rng: random.Random, customer: DemoCustomer, day: date) -> list[_Draft]:
    """Legitimate activity that resembles a typology: what makes rules raise false alarms."""
    drafts = []
    if customer.clients and day.weekday() < 6:
        visits = _poisson(rng, customer.client_rate)
        drafts += [_client_payment(rng, customer, day) for _ in range(visits)]
    if customer.gamer and rng.random() < 0.1:
        drafts += _in_game_purchases(rng, customer, day)
    if len(customer.accounts) > 1 and rng.random() < 1 / 45:
        drafts.append(_savings_top_up(rng, customer, day))
    if rng.random() < _HOUSE_DEPOSITS_PER_DAY:
        drafts += _house_deposit(rng, customer, day)
    return drafts


# The builders below are kept dense on purpose: one call reads as one transaction's fields.
# fmt: off


def _card_payment(rng: random.Random, customer: DemoCustomer, day: date) -> list[_Draft]:
    """A purchase at a terminal or online; now and then the merchant refunds it days later."""
    index = rng.choices(range(len(MERCHANTS)), _MERCHANT_WEIGHTS)[0]
    merchant, partner = MERCHANTS[index], customer.partner
    merchant_party = {
        "account_id": f"MID-{index + 1:05d}", "name": merchant.name,
        "country": merchant.country or partner.country,
    }
    card = {
        "channel": "web" if merchant.online else "pos", "product": customer.card_product,
        "acquirer": merchant.acquirer, "card_type": customer.card_type, "mcc": merchant.mcc,
    }
    amount, moment = _lognormal(rng, merchant.median, merchant.sigma), _moment(rng, day)
    payment = _draft(
        customer, moment, kind="card_payment", amount=amount,
        status=_status(rng, _CARD_FAILURES), direction="outbound", counterparty=merchant_party,
        **card, **(customer.device() if merchant.online else {}),
        latency_ms=_latency(rng, 420 if merchant.online else 180),
    )
    if payment.fields["status"] != "approved" or rng.random() >= 0.02:
        return [payment]
    refund = _draft(
        customer, moment + timedelta(seconds=rng.randrange(86_400, 6 * 86_400)), kind="refund",
        amount=amount, status="approved", direction="inbound", counterparty=merchant_party,
        **card, latency_ms=_latency(rng, 300),
    )
    return [payment, refund]


def _salary(rng: random.Random, customer: DemoCustomer, day: date) -> _Draft:
    return _draft(
        customer, _moment(rng, day, hours=(5, 6, 7, 8)), kind="ach",
        amount=customer.salary * rng.lognormvariate(0, 0.03),
        status=_status(rng, _SALARY_FAILURES), direction="inbound",
        counterparty=customer.employer.party(),
    )


def _savings_transfer(rng: random.Random, customer: DemoCustomer, day: date) -> _Draft:
    """Payday: part of the salary goes to the customer's own second account."""
    return _draft(
        customer, _moment(rng, day, hours=(9, 12, 18, 20, 21)), kind="transfer",
        amount=_round_to(_lognormal(rng, 300, 0.6), 10),
        status=_status(rng, _TRANSFER_FAILURES), direction="outbound",
        counterparty=customer.party(account=1), channel=rng.choice(("mobile", "web")),
        **customer.device(), latency_ms=_latency(rng, 260),
    )


def _bill(rng: random.Random, customer: DemoCustomer, bill: Bill, day: date) -> _Draft:
    """A direct debit: the same payee and the same amount every month."""
    return _draft(
        customer, _moment(rng, day, hours=(3, 4, 5, 6)), kind="ach", amount=bill.amount,
        status=_status(rng, _ACH_FAILURES), direction="outbound",
        counterparty=bill.payee.party(),
    )


def _p2p_out(
    rng: random.Random, customer: DemoCustomer, peers: tuple[DemoCustomer, ...], day: date
) -> _Draft:
    """Money to a friend: another customer of the same partner, or someone at another bank."""
    friends = peers if rng.random() < 0.6 else customer.contacts
    return _draft(
        customer, _moment(rng, day), kind="p2p", amount=_p2p_amount(rng),
        status=_status(rng, _TRANSFER_FAILURES), direction="outbound",
        counterparty=rng.choice(friends).party(), channel="mobile", **customer.device(),
        latency_ms=_latency(rng, 250),
    )


def _p2p_in(rng: random.Random, customer: DemoCustomer, day: date) -> _Draft:
    return _draft(
        customer, _moment(rng, day), kind="p2p", amount=_p2p_amount(rng),
        status=_status(rng, _TRANSFER_FAILURES), direction="inbound",
        counterparty=rng.choice(customer.contacts).party(), channel="mobile",
        latency_ms=_latency(rng, 250),
    )


def _atm_withdrawal(rng: random.Random, customer: DemoCustomer, day: date) -> _Draft:
    return _draft(
        customer, _moment(rng, day), kind="cash_withdrawal",
        amount=rng.choices(_ATM_NOTES, _ATM_NOTE_WEIGHTS)[0],
        status=_status(rng, _ATM_FAILURES), direction="outbound", channel="atm",
        product=customer.card_product, card_type=customer.card_type,
        latency_ms=_latency(rng, 900),
    )


def _takings_deposit(rng: random.Random, customer: DemoCustomer, day: date) -> _Draft:
    """A self-employed customer banks the week's cash takings, well under the reporting line."""
    amount = min(_lognormal(rng, 1200, 0.6), CASH_REPORTING_THRESHOLD * 0.6)
    return _draft(
        customer, _moment(rng, day, hours=(10, 11, 14, 15, 16)), kind="cash_deposit",
        amount=_round_to(amount, 5), status=_status(rng, _CASH_FAILURES), direction="inbound",
        channel=rng.choices(("branch", "atm"), (7, 3))[0], latency_ms=_latency(rng, 700),
    )


def _wire_abroad(
    rng: random.Random, customer: DemoCustomer, day: date, *, median: float, to: str
) -> _Draft:
    return _draft(
        customer, _moment(rng, day, hours=(10, 11, 12, 13, 14, 15, 16)), kind="wire",
        amount=_round_to(_lognormal(rng, median, 0.5), 10),
        status=_status(rng, _WIRE_FAILURES), direction="outbound",
        counterparty=_stranger(rng, to).party(), channel=rng.choice(("web", "branch")),
        **customer.device(), latency_ms=_latency(rng, 1500),
    )


def _client_payment(rng: random.Random, customer: DemoCustomer, day: date) -> _Draft:
    """A sole trader's client pays for a haircut, a lesson or a clean."""
    return _draft(
        customer, _moment(rng, day, hours=_WORKING_HOURS), kind="p2p",
        amount=_round_to(_lognormal(rng, 45, 0.5), 5), status=_status(rng, _TRANSFER_FAILURES),
        direction="inbound", counterparty=rng.choice(customer.clients).party(),
        channel="mobile", latency_ms=_latency(rng, 250),
    )


def _in_game_purchases(rng: random.Random, customer: DemoCustomer, day: date) -> list[_Draft]:
    """A few small in-game purchases within minutes: a burst of tiny card payments, but the
    customer's own device, and declined no more often than any card payment."""
    index = next(i for i, merchant in enumerate(MERCHANTS) if merchant.mcc == "5816")
    merchant = MERCHANTS[index]
    party = {
        "account_id": f"MID-{index + 1:05d}", "name": merchant.name, "country": merchant.country,
    }
    start, count = _moment(rng, day), rng.randint(3, 8)
    moments = sorted(start + timedelta(seconds=rng.randrange(600)) for _ in range(count))
    return [
        _draft(
            customer, moment, kind="card_payment", amount=rng.choice((0.99, 1.99, 4.99, 9.99)),
            status=_status(rng, _CARD_FAILURES), direction="outbound", counterparty=party,
            channel="web", product=customer.card_product, acquirer=merchant.acquirer,
            card_type=customer.card_type, mcc=merchant.mcc, **customer.device(),
            latency_ms=_latency(rng, 420),
        )
        for moment in moments
    ]


def _savings_top_up(rng: random.Random, customer: DemoCustomer, day: date) -> _Draft:
    """A round sum put aside in the customer's own savings account."""
    return _draft(
        customer, _moment(rng, day), kind="transfer",
        amount=rng.choice((500, 1000, 1000, 2000, 2500, 5000, 10_000)),
        status=_status(rng, _TRANSFER_FAILURES), direction="outbound",
        counterparty=customer.party(account=1), channel=rng.choice(("mobile", "web")),
        **customer.device(), latency_ms=_latency(rng, 260),
    )


def _house_deposit(rng: random.Random, customer: DemoCustomer, day: date) -> list[_Draft]:
    """Savings sold at the broker and wired to the notary the same day: funds in and nearly all
    out within hours, as in a pass-through, for a house."""
    partner = customer.partner
    broker = _local_business(partner, "Summit Invest Brokerage", f"{partner.code}-BRK001", 1)
    notary = _local_business(partner, "Harbor Title & Escrow", f"{partner.code}-ESC001", 2)
    arrival = _moment(rng, day, hours=(9, 10, 11))
    amount = _round_to(rng.uniform(8_000, 40_000), 100)
    return [
        _draft(
            customer, arrival, kind="transfer", amount=amount, status="approved",
            direction="inbound", counterparty=broker.party(), channel="web",
            latency_ms=_latency(rng, 260),
        ),
        _draft(
            customer, arrival + timedelta(seconds=rng.randrange(1800, 6 * 3600)), kind="wire",
            amount=amount * rng.uniform(0.97, 1.0), status="approved", direction="outbound",
            counterparty=notary.party(), channel="web", **customer.device(),
            latency_ms=_latency(rng, 1500),
        ),
    ]


# fmt: on


def _p2p_amount(rng: random.Random) -> float:
    amount = _lognormal(rng, 40, 0.9)
    return _round_to(amount, 5) if rng.random() < 0.5 else amount
