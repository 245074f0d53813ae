"""The demo population of ``seed_demo``: three partners' customers and a month of their money.

Pure functions over one ``random.Random(seed)``: the same seed, size and window give the same
payloads byte for byte, so running the command again is a replay (duplicates, never conflicts)
and the generator is tested without a database. Payloads have the ingest contract's shape and
are stored through the same service as the API. A handful of laundering typologies are planted
among ordinary lives, tagged ``metadata.demo_typology``, so rules have something real to find.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .money import minor_units

# Every partner needs enough customers for its planted typologies and for p2p between peers.
MIN_CUSTOMERS = 12
# FATF "call for action" jurisdictions: a wire there is what high-risk-country rules look for.
HIGH_RISK_COUNTRIES = ("IR", "KP", "MM")
# Cash deposits at or above this are reported to the regulator; structuring stays just below.
CASH_REPORTING_THRESHOLD = 10_000
# Metadata every demo payload carries: where it came from, and which window to replay.
SEED_KEY = "demo_seed"
WINDOW_END_KEY = "demo_window_end"
TYPOLOGY_KEY = "demo_typology"


@dataclass(frozen=True)
class DemoPartner:
    name: str
    code: str
    country: str
    currency: str
    bic: str
    share: float  # of all customers
    salary_median: float  # monthly, net, in the partner's currency
    card_products: tuple[str, ...]
    origin_countries: tuple[str, ...]  # where its foreign-born customers come from


# fmt: off
PARTNERS = (
    DemoPartner(
        name="Northwind Bank", code="NW", country="US", currency="USD", bic="NWBKUS33",
        share=0.45, salary_median=4300, card_products=("debit", "credit"),
        origin_countries=("MX", "IN", "PH", "CN", "SV"),
    ),
    DemoPartner(
        name="Harbor Credit Union", code="HC", country="CA", currency="CAD", bic="HBCUCAT2",
        share=0.30, salary_median=4700, card_products=("debit", "credit"),
        origin_countries=("IN", "CN", "PH", "FR", "JM"),
    ),
    DemoPartner(
        name="Lumen Pay", code="LP", country="NL", currency="EUR", bic="LUPYNL2A",
        share=0.25, salary_median=3200, card_products=("prepaid", "virtual"),
        origin_countries=("TR", "MA", "PL", "SR", "NG"),
    ),
)
# Bank identifier codes by country: a few local banks, one abroad is enough.
_BANKS = {
    "US": ("CHASUS33", "BOFAUS3N", "WFBIUS6S"), "CA": ("ROYCCAT2", "TDOMCATT", "BOFMCAM2"),
    "NL": ("INGBNL2A", "ABNANL2A", "RABONL2U"),
    "MX": ("BNMXMXMM",), "IN": ("SBININBB",), "PH": ("BNORPHMM",), "CN": ("ICBKCNBJ",),
    "SV": ("CUSCSVSS",), "FR": ("BNPAFRPP",), "JM": ("JNCBJMKX",), "TR": ("TCZBTR2A",),
    "MA": ("BCMAMAMC",), "PL": ("PKOPPLPW",), "SR": ("DSBBSRPA",), "NG": ("FBNINGLA",),
    "AE": ("EBILAEAD",), "HK": ("HSBCHKHH",), "CY": ("BCYPCY2N",),
    "IR": ("MELIIRTH",), "KP": ("KKBCKPPY",), "MM": ("MYMBMMMY",),
}
# fmt: on
# Where the money collected by a mule goes next.
_FAN_IN_DESTINATIONS = ("AE", "HK", "CY", "TR")

_FIRST_NAMES = tuple(
    "Ana Bo Carlos Dana Emeka Fatima Grace Hiro Ines Jamal Kai Lena Mateo Nadia Omar Priya Quinn "
    "Rosa Sami Tara Umar Vera Wei Ximena Yusuf Zoe Liam Maya Noah Sofia Ethan Aisha".split()
)
_LAST_NAMES = tuple(
    "Lima Chen Okafor Smith Garcia Nguyen Patel Kowalski Jansen Murphy Haddad Santos Kim Rossi "
    "Dubois Yilmaz Brown Singh Tanaka Moreau Visser Reyes Cohen Ivanova Mensah Larsen".split()
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
# People pay by day; the night is quiet but never empty.
_DAY_HOURS = tuple(range(24))
# fmt: off
_DAY_HOUR_WEIGHTS = (
    1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 10, 11,
    13, 12, 10, 10, 11, 12, 13, 12, 10, 7, 4, 2,
)
# fmt: on
_IP_PREFIXES = ("203.0.113", "198.51.100", "192.0.2")

# (failed, denied, reversed) probabilities: card payments are declined far more than transfers.
_CARD_FAILURES = (0.015, 0.045, 0.01)
_ATM_FAILURES = (0.01, 0.025, 0.0)
_TRANSFER_FAILURES = (0.012, 0.006, 0.004)
_ACH_FAILURES = (0.008, 0.0, 0.012)  # ACH returns show up as reversals
_SALARY_FAILURES = (0.002, 0.0, 0.002)
_WIRE_FAILURES = (0.02, 0.01, 0.0)
_CASH_FAILURES = (0.005, 0.0, 0.0)


@dataclass(frozen=True)
class Counterparty:
    """Someone outside the partner's books: an employer, a biller, a friend at another bank."""

    name: str
    account_id: str
    country: str
    bank: str

    def party(self) -> dict[str, str]:
        return {
            "account_id": self.account_id,
            "name": self.name,
            "country": self.country,
            "bank": self.bank,
        }


@dataclass(frozen=True)
class Bill:
    payee: Counterparty
    amount: float
    day: int


@dataclass(frozen=True)
class DemoCustomer:
    partner: DemoPartner
    customer_id: str
    name: str
    country: str
    accounts: tuple[str, ...]
    employer: Counterparty | None  # None: self-employed, paid in cash
    salary: float
    payday: int
    card_product: str
    card_type: str
    device_id: str
    ip_address: str
    card_rate: float  # card payments per day
    bills: tuple[Bill, ...]
    contacts: tuple[Counterparty, ...]  # friends and family at other banks
    remittance_day: int | None  # foreign-born customers who send money home monthly
    sends_wire_abroad: bool

    def device(self) -> dict[str, str]:
        """What a partner reports when the customer acts from their own phone or browser."""
        return {"device_id": self.device_id, "ip_address": self.ip_address}

    def party(self, account: int = 0) -> dict[str, str]:
        return {
            "account_id": self.accounts[account],
            "customer_id": self.customer_id,
            "name": self.name,
            "country": self.country,
            "bank": self.partner.bic,
        }


@dataclass(frozen=True)
class PlantedTypology:
    """A suspicious pattern hidden in the population, for the summary and for tests."""

    typology: str
    partner: str
    customer_id: str
    transactions: int


@dataclass(frozen=True)
class Population:
    window_end: datetime
    customers: tuple[DemoCustomer, ...]
    payloads: dict[str, list[dict]]  # partner name -> contract payloads, oldest first
    typologies: tuple[PlantedTypology, ...]


@dataclass(frozen=True)
class _Draft:
    """A payload before it has an external_id: those are numbered in time order at the end."""

    partner: DemoPartner
    moment: datetime
    fields: dict


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


# --- The population ----------------------------------------------------------------------------


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
    )


def _person_name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def _employer(partner: DemoPartner, index: int) -> Counterparty:
    return _local_business(partner, _EMPLOYERS[index], f"{partner.code}-EMP{index:03d}", index)


def _biller(partner: DemoPartner, index: int, name: str) -> Counterparty:
    return _local_business(partner, name, f"{partner.code}-BILL{index:03d}", index)


def _local_business(partner: DemoPartner, name: str, account_id: str, index: int) -> Counterparty:
    """Businesses bank locally, and the same business always at the same bank."""
    banks = _BANKS[partner.country]
    return Counterparty(name, account_id, partner.country, banks[index % len(banks)])


def _stranger(rng: random.Random, country: str) -> Counterparty:
    return Counterparty(
        _person_name(rng), f"X{rng.getrandbits(40):010X}", country, rng.choice(_BANKS[country])
    )


# --- Ordinary days -----------------------------------------------------------------------------


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
    return drafts


def _draft(
    customer: DemoCustomer,
    moment: datetime,
    *,
    kind: str,
    amount: float,
    status: str,
    direction: str,
    counterparty: dict[str, str] | None = None,
    **fields: object,
) -> _Draft:
    """A payload with the customer on the side ``direction`` names, the counterparty opposite."""
    own, other = ("originator", "beneficiary")[:: 1 if direction == "outbound" else -1]
    partner = customer.partner
    parties = {own: customer.party(), **({other: counterparty} if counterparty else {})}
    payload = {
        "amount": _money(amount, partner.currency),
        "currency": partner.currency,
        "type": kind,
        "status": status,
        "direction": direction,
        **parties,
        **fields,
    }
    return _Draft(partner, moment, payload)


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


# --- Typologies --------------------------------------------------------------------------------

Planter = Callable[[random.Random, DemoCustomer, datetime, datetime], list[_Draft]]


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
            latency_ms=_latency(rng, 700), metadata={TYPOLOGY_KEY: "structuring"},
        )
        for moment in moments
    ]


def _fan_in(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """A mule account: many small p2p from strangers, then nearly all of it wired abroad."""
    country, tag = customer.partner.country, {TYPOLOGY_KEY: "fan_in"}
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


def _high_risk_wire(
    rng: random.Random, customer: DemoCustomer, start: datetime, end: datetime
) -> list[_Draft]:
    """One large wire to a jurisdiction under FATF countermeasures."""
    (moment,) = _moments_within(rng, 1, timedelta(hours=1), start, end)
    return [_draft(
        customer, moment, kind="wire", amount=_round_to(rng.uniform(12_000, 45_000), 100),
        status="approved", direction="outbound",
        counterparty=_stranger(rng, rng.choice(HIGH_RISK_COUNTRIES)).party(), channel="branch",
        latency_ms=_latency(rng, 1500), metadata={TYPOLOGY_KEY: "high_risk_country"},
    )]


# fmt: on

# Which partner hides which pattern; each partner's actors are distinct customers.
_TYPOLOGY_PLAN: tuple[tuple[str, Planter, str], ...] = (
    ("structuring", _structuring, "NW"),
    ("structuring", _structuring, "HC"),
    ("fan_in", _fan_in, "LP"),
    ("fan_in", _fan_in, "NW"),
    ("high_risk_country", _high_risk_wire, "HC"),
    ("high_risk_country", _high_risk_wire, "LP"),
)


def _plant_typologies(
    rng: random.Random, people: tuple[DemoCustomer, ...], start: datetime, end: datetime
) -> tuple[tuple[PlantedTypology, ...], list[_Draft]]:
    actors: dict[str, list[DemoCustomer]] = {}
    for partner in PARTNERS:
        wanted = sum(1 for _, _, code in _TYPOLOGY_PLAN if code == partner.code)
        pool = [person for person in people if person.partner == partner]
        actors[partner.code] = rng.sample(pool, wanted)
    planted, drafts = [], []
    for typology, plant, code in _TYPOLOGY_PLAN:
        actor = actors[code].pop()
        pattern = plant(rng, actor, start, end)
        planted.append(
            PlantedTypology(typology, actor.partner.name, actor.customer_id, len(pattern))
        )
        drafts += pattern
    return tuple(planted), drafts


# --- Numbers, moments and ids ------------------------------------------------------------------


def _number(
    drafts: list[_Draft], *, seed: int, start: datetime, end: datetime
) -> dict[str, list[dict]]:
    """Contract payloads per partner, oldest first, with external ids that follow that order."""
    common = {SEED_KEY: seed, WINDOW_END_KEY: _iso(end)}
    payloads: dict[str, list[dict]] = {partner.name: [] for partner in PARTNERS}
    for draft in sorted(drafts, key=lambda d: d.moment):
        if not start <= draft.moment < end:
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


def _moment(rng: random.Random, day: date, hours: tuple[int, ...] | None = None) -> datetime:
    hour = rng.choice(hours) if hours else rng.choices(_DAY_HOURS, _DAY_HOUR_WEIGHTS)[0]
    clock = time(hour, rng.randrange(60), rng.randrange(60))
    return datetime.combine(day, clock, tzinfo=UTC)


def _moments_within(
    rng: random.Random, count: int, span: timedelta, start: datetime, end: datetime
) -> list[datetime]:
    """``count`` sorted moments inside one stretch of ``span``, wholly inside the window."""
    span = min(span, (end - start) * 0.9)
    first = start + (end - start - span) * rng.random()
    offsets = sorted(rng.random() for _ in range(count))
    return [(first + span * offset).replace(microsecond=0) for offset in offsets]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status(rng: random.Random, failures: tuple[float, float, float]) -> str:
    roll = rng.random()
    for status, probability in zip(("failed", "denied", "reversed"), failures, strict=True):
        if roll < probability:
            return status
        roll -= probability
    return "approved"


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def _latency(rng: random.Random, median_ms: float) -> int:
    """Processing time with a long tail: now and then the partner's processor stalls."""
    stall = rng.uniform(5, 20) if rng.random() < 0.01 else 1
    return max(1, round(_lognormal(rng, median_ms, 0.35) * stall))


def _p2p_amount(rng: random.Random) -> float:
    amount = _lognormal(rng, 40, 0.9)
    return _round_to(amount, 5) if rng.random() < 0.5 else amount


def _round_to(value: float, step: int) -> float:
    return max(step, round(value / step) * step)


def _poisson(rng: random.Random, rate: float) -> int:
    """Knuth's method: fine for the small daily rates used here."""
    threshold, count, product = math.exp(-rate), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _money(value: float, currency: str) -> str:
    """The amount with exactly the currency's decimals, never below its smallest unit."""
    quantum = Decimal(1).scaleb(-minor_units(currency))
    return str(max(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP), quantum))
