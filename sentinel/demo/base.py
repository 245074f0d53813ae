"""What every part of the demo is made of: partners, people, drafts, and random helpers."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sentinel.timestamps import iso_utc
from transactions.money import minor_units

# Every partner needs enough customers for its planted typologies and for p2p between peers.
MIN_CUSTOMERS = 12

# Each typology is planted on this many customers of every partner. A small population has too
# few customers for that: there one customer may carry several typologies (never one twice), and
# at least half of each partner's customers stay ordinary.
ACTORS_PER_TYPOLOGY = 2

# FATF "call for action" jurisdictions and a few under increased monitoring: a wire there is
# what high-risk-country rules look for.
HIGH_RISK_COUNTRIES = ("IR", "KP", "MM", "SY", "LB", "VE", "YE")

# Cash deposits at or above this are reported to the regulator (USD, CAD and EUR alike);
# structuring stays just below.
CASH_REPORTING_THRESHOLD = 10_000

# Fictional watch-list entries seed_demo adds to the sanctions list, each with the way a payment
# spells the same party (other word order, case or accents), as screening meets them in practice.
SANCTIONED_PARTIES = (
    ("SOROKINA-VANCE, Yelena", "Yelena Sorokina Vance"),
    ("HADDOUR, Tarek Nabil", "Tárek Nabil HADDOUR"),
    ("ORLAN MARINE SERVICES FZE", "Orlan Marine Services Fze"),
    ("KESSLER-MBEKI, Jonas", "jonas kessler-mbeki"),
)

# Metadata every demo payload carries: where it came from, and which window to replay.
SEED_KEY = "demo_seed"
WINDOW_END_KEY = "demo_window_end"
TYPOLOGY_KEY = "demo_typology"


# fmt: off
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
    "IR": ("MELIIRTH",), "KP": ("KKBCKPPY",), "MM": ("MYMBMMMY",), "SY": ("CBSYSYDA",),
    "LB": ("BLOMLBBX",), "VE": ("BVENVECA",), "YE": ("YKBKYESA",), "GB": ("BARCGB22",),
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

# People pay by day; the night is quiet but never empty.
_DAY_HOURS = tuple(range(24))

# fmt: off
_DAY_HOUR_WEIGHTS = (
    1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 10, 11,
    13, 12, 10, 10, 11, 12, 13, 12, 10, 7, 4, 2,
)
# fmt: on

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
    # Ordinary lives that look like typologies, so the rules' false alarms are measured too:
    clients: tuple[Counterparty, ...] = ()  # a sole trader's customers, who pay by p2p
    client_rate: float = 0.0  # client payments per working day
    gamer: bool = False  # now and then buys in-game items in quick succession

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
    """A suspicious pattern hidden in the population: the ground truth ``detection_report``
    measures the rules against (``account_id`` is the customer-side account carrying it)."""

    typology: str
    partner: str
    customer_id: str
    account_id: str
    transactions: int


@dataclass(frozen=True)
class Population:
    window_end: datetime
    customers: tuple[DemoCustomer, ...]
    payloads: dict[str, list[dict]]  # partner name -> contract payloads, oldest first
    typologies: tuple[PlantedTypology, ...]


@dataclass(frozen=True)
class _Draft:
    """A payload before it has an external_id: those are numbered in time order at the end.

    ``history`` marks the old activity of a dormant account, the one thing stored from before
    the window (a dormancy of half a year cannot fit in a month).
    """

    partner: DemoPartner
    moment: datetime
    fields: dict
    history: bool = False


def _person_name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def _local_business(partner: DemoPartner, name: str, account_id: str, index: int) -> Counterparty:
    """Businesses bank locally, and the same business always at the same bank."""
    banks = _BANKS[partner.country]
    return Counterparty(name, account_id, partner.country, banks[index % len(banks)])


def _stranger(rng: random.Random, country: str) -> Counterparty:
    return Counterparty(
        _person_name(rng), f"X{rng.getrandbits(40):010X}", country, rng.choice(_BANKS[country])
    )


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
    return iso_utc(moment, timespec="seconds")


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
