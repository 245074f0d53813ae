"""External benchmark data sets replayed through the real ingest and scoring path.

``detection_report --dataset amlsim`` or ``--dataset ibm-patterns`` turns the shipped files
(../shared/data, README there) into contract payloads, accepts them with
``transactions_accept`` (the service behind the partner API) a day at a time, runs the
pipeline on each day before the next arrives, as a partner's traffic would, and measures the
live rules' hits against the files' own labels.

Every transfer is reported from both sides, as a partner holding both accounts would see it:
outbound for the sender, inbound for the receiver. An account is "hit" when a live rule fired
on a transaction whose customer side it is; "named" when it is also a member of a network
pattern (NetworkFinding) whose transaction a live network rule fired on.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from rules.choices import RuleStatus
from rules.models import Rule, RuleHit, TypologyLabel
from sentinel.network.models import NetworkFinding, NetworkPattern
from sentinel.network.runtime import in_force
from sentinel.network.selectors import patterns_of, transfers_span
from sentinel.network.window import WindowParameters
from sentinel.timestamps import iso_utc
from transactions.choices import RateSource
from transactions.models import Account, ExchangeRate, PartnerBank, Transaction
from transactions.money import minor_units
from transactions.services import exchange_rates_import, partner_create

from .orchestrator import transactions_accept, transactions_queued_process
from .rings import RULE_FOR_PATTERN, network_rings_alert

BATCH_SIZE = 1000  # the batch endpoint's limit


def add_data_argument(parser) -> None:
    """The commands' ``--data``: where the shared data sets are."""
    parser.add_argument(
        "--data",
        type=Path,
        default=settings.BASE_DIR.parent / "shared" / "data",
        help="Where the shared data sets are (default: ../shared/data beside the checkout).",
    )


NETWORK_RULE_PREFIX = "network_"


@dataclass
class Replay:
    """What one replay stored and how long it took."""

    partner: PartnerBank
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    processed: int = 0
    seconds: float = 0.0
    reused: bool = False


def dataset_partner(name: str) -> tuple[PartnerBank, bool]:
    """The data set's own partner; True when it exists already (replayed before)."""
    existing = PartnerBank.objects.filter(name=name).first()
    return (existing, True) if existing else (partner_create(name=name), False)


def replay(partner: PartnerBank, days: Iterator[list[dict]]) -> Replay:
    """Accept each day's payloads in batches of 1,000, then score them before the next day."""
    result = Replay(partner=partner)
    started = time.monotonic()
    for payloads in days:
        for offset in range(0, len(payloads), BATCH_SIZE):
            for item in transactions_accept(
                partner=partner, payloads=payloads[offset : offset + BATCH_SIZE]
            ):
                result.statuses[item.status] += 1
        result.processed += transactions_queued_process()
    result.seconds = time.monotonic() - started
    return result


def live_hits(partner: PartnerBank) -> dict[str, set[str]]:
    """Transaction external id -> codes of the live rules that fired on it, or whose ring
    (the window scan's, under a live ring rule) it is one of the transfers of."""
    hits: dict[str, set[str]] = defaultdict(set)
    for external_id, code in RuleHit.objects.filter(
        shadow=False, decision__partner=partner
    ).values_list("decision__transaction__external_id", "rule__code"):
        hits[external_id].add(code)
    rings = live_rings(partner.pk)
    tx_ids = {tx_id for pattern in rings for tx_id in pattern.transactions}
    external = dict(Transaction.objects.filter(pk__in=tx_ids).values_list("pk", "external_id"))
    for pattern in rings:
        for tx_id in pattern.transactions:
            hits[external[tx_id]].add(RULE_FOR_PATTERN[pattern.kind])
    return hits


def live_rings(partner_id: int) -> list[NetworkPattern]:
    """The partner's rings whose ring rule is live (those that raised alerts)."""
    live = set(
        Rule.objects.filter(code__in=RULE_FOR_PATTERN.values(), status=RuleStatus.LIVE).values_list(
            "code", flat=True
        )
    )
    kinds = [kind for kind, code in RULE_FOR_PATTERN.items() if code in live]
    return patterns_of(partner_id=partner_id, kinds=kinds)


def benchmark_window(partner_id: int) -> WindowParameters:
    """The window scan's bounds for a replayed file: the version in force's (the rings name
    no version, since a replay may change one). A file shorter than the window and its month
    of history (IBM's patterns span 18 days) waives the history: every pair in it is new,
    which is what the file says, and it would never be scanned otherwise. A longer one
    (AMLSim's 149 days) is scanned as production would scan it: nothing until the graph
    holds window + history, then "new" judged against the month behind the window."""
    parameters = replace(in_force().window, version_id=None)
    span = transfers_span(partner_id=partner_id)
    if span is None or span[1] - span[0] < parameters.window + parameters.history:
        return replace(parameters, history=timedelta(0))
    return parameters


def rings_scan(partner_id: int, parameters: WindowParameters | None = None) -> int:
    """Run the window scan over the partner's graph as beat would have, at the end of every
    day it covers (each scan sees the window up to it); how many rings it alerted on."""
    span = transfers_span(partner_id=partner_id)
    if span is None:
        return 0
    first, last = span
    until = datetime.combine(first.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    alerted = 0
    while until < last + timedelta(days=1):
        changes = network_rings_alert(
            partner_id=partner_id, until=min(until, last), parameters=parameters
        )
        alerted += len(changes.created)
        until += timedelta(days=1)
    return alerted


def network_members_named(partner: PartnerBank, hits: dict[str, set[str]]) -> set[str]:
    """Accounts that are members of a pattern a live network rule alerted on."""
    alerted = {
        external_id
        for external_id, codes in hits.items()
        if any(code.startswith(NETWORK_RULE_PREFIX) for code in codes)
    }
    members: set[str] = set()
    for external_id, accounts in NetworkFinding.objects.filter(partner=partner).values_list(
        "transaction__external_id", "members"
    ):
        if external_id in alerted:
            members.update(accounts)
    return members


# --- AMLSim ------------------------------------------------------------------------------------

AMLSIM_PARTNER = "AMLSim 20K fan-in 200 cycle 200 (benchmark)"


@dataclass(frozen=True)
class AmlSim:
    """The AMLSim sample: transfers by day step, and which accounts are laundering."""

    transfers: list[tuple[str, str, str, int]]  # sender, receiver, value, day step
    laundering: frozenset[str]
    accounts: frozenset[str]

    @classmethod
    def load(cls, directory: Path) -> AmlSim:
        with open(directory / "nodes.csv", newline="") as nodes:
            rows = list(csv.DictReader(nodes))
        with open(directory / "transactions.csv", newline="") as transactions:
            transfers = [
                (row["sourceNodeId"], row["targetNodeId"], row["value"], int(row["time"]))
                for row in csv.DictReader(transactions)
            ]
        return cls(
            transfers=transfers,
            laundering=frozenset(row["nodeid"] for row in rows if row["isFraud"] == "1"),
            accounts=frozenset(row["nodeid"] for row in rows),
        )

    def days(self) -> Iterator[list[dict]]:
        """Each day step's payloads, both sides of each transfer; the last day ends yesterday."""
        last = max(day for *_, day in self.transfers)
        first_day = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        first_day -= timedelta(days=last)
        by_day: dict[int, list[int]] = defaultdict(list)
        for index, (*_, day) in enumerate(self.transfers):
            by_day[day].append(index)
        for day in sorted(by_day):
            payloads = []
            for order, index in enumerate(by_day[day]):
                sender, receiver, value, _ = self.transfers[index]
                at = first_day + timedelta(days=day - 1, seconds=order * 30)
                for direction in ("outbound", "inbound"):
                    payloads.append(
                        _payload(
                            f"aml-{index}-{direction[:3]}",
                            at,
                            Decimal(value),
                            "USD",
                            "transfer",
                            direction,
                            sender,
                            receiver,
                        )
                    )
            yield payloads

    def step_start(self, partner: PartnerBank, step: int) -> datetime:
        """When a day step began in the replay stored for ``partner``: the file's first step
        is the day of its earliest transaction (``days`` puts each step at a midnight)."""
        first = partner.transactions.order_by("occurred_at").values_list("occurred_at", flat=True)[
            0
        ]
        midnight = first.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight + timedelta(days=step - min(day for *_, day in self.transfers))

    def customer_of(self, external_id: str) -> str:
        _, index, side = external_id.split("-")
        sender, receiver, *_ = self.transfers[int(index)]
        return sender if side == "out" else receiver

    def exchanged_with_laundering(self) -> set[str]:
        """Laundering accounts that sent to or received from another laundering account."""
        return {
            account
            for sender, receiver, *_ in self.transfers
            if sender in self.laundering and receiver in self.laundering
            for account in (sender, receiver)
        }


# --- IBM AML patterns ----------------------------------------------------------------------------

IBM_PARTNER = "IBM AML HI-Small patterns (benchmark)"
# The file names currencies; ISO 4217 codes for the contract (Bitcoin has none: left invalid).
CURRENCIES = {
    "US Dollar": "USD",
    "Euro": "EUR",
    "Yuan": "CNY",
    "Swiss Franc": "CHF",
    "Shekel": "ILS",
    "Canadian Dollar": "CAD",
    "Rupee": "INR",
    "Yen": "JPY",
    "Australian Dollar": "AUD",
    "Mexican Peso": "MXN",
    "UK Pound": "GBP",
    "Ruble": "RUB",
    "Brazil Real": "BRL",
    "Saudi Riyal": "SAR",
}
# The extract has no cross-currency row, so it carries no rate of its own; a partner would
# have the ECB's. One euro in each currency, approximate market rates of October 2020, the
# period whose rates the file's amounts were converted at (its cycles' hops, each in another
# currency, agree at these within a few percent; at September 2022's, the file's own dates,
# within about 30 %). SAR is pegged at 3.75 to the dollar (the ECB publishes none).
REFERENCE_RATES = {
    "USD": "1.1765",
    "GBP": "0.9059",
    "CHF": "1.0706",
    "JPY": "123.53",
    "CNY": "7.8824",
    "INR": "86.47",
    "RUB": "90.59",
    "CAD": "1.5529",
    "AUD": "1.6471",
    "MXN": "25.06",
    "ILS": "4.0000",
    "BRL": "6.5882",
    "SAR": "4.4118",
}
PAYMENT_TYPES = {
    "ACH": "ach",
    "Wire": "wire",
    "Cheque": "transfer",
    "Cash": "transfer",
    "Credit Card": "card_payment",
    "Bitcoin": "transfer",
    "Reinvestment": "transfer",
}


@dataclass(frozen=True)
class IbmRow:
    external_id: str
    at: datetime
    sender: str
    receiver: str
    paid: tuple[str, str]  # amount, currency name
    received: tuple[str, str]
    payment_format: str
    attempt: str | None  # None: a normal row
    typology: str | None


@dataclass(frozen=True)
class IbmPatterns:
    rows: list[IbmRow]

    @classmethod
    def load(cls, directory: Path) -> IbmPatterns:
        rows = []
        with open(directory / "hi_small_laundering_attempts.csv", newline="") as attempts:
            for n, row in enumerate(csv.DictReader(attempts)):
                rows.append(_ibm_row(f"ibm-a{n}", row, row["from_bank"], row["to_bank"], row))
        with open(directory / "hi_small_first1000_normal.csv", newline="") as normal:
            for n, row in enumerate(csv.DictReader(normal)):
                rows.append(_ibm_row(f"ibm-n{n}", row, row["from_bank_id"], row["to_bank_id"]))
        return cls(rows=rows)

    def _shift(self) -> timedelta:
        """The replay's dates: shifted so the last day is yesterday."""
        return timezone.now() - timedelta(days=1) - max(row.at for row in self.rows)

    def rates_enter(self) -> int:
        """Store ``REFERENCE_RATES`` (as entered by staff) for every replayed day, so amounts
        compare in one currency; how many were added. Only into a database with no euro rate
        of its own within the replay's days (and the rates' look-back before them): real
        rates are never mixed with these approximations, which would otherwise convert a
        weekend's real transactions at 2020's rates."""
        shift = self._shift()
        days = sorted({(row.at + shift).date() for row in self.rows})
        since = days[0] - timedelta(days=settings.SENTINEL_EXCHANGE_RATE_MAX_AGE_DAYS)
        if ExchangeRate.objects.filter(base="EUR", date__gte=since, date__lte=days[-1]).exists():
            return 0
        codes = list(REFERENCE_RATES)
        lines = ["Date," + ",".join(codes)]
        lines += [day.isoformat() + "," + ",".join(REFERENCE_RATES.values()) for day in days]
        return exchange_rates_import(text="\n".join(lines), source=RateSource.MANUAL).added

    def days(self) -> Iterator[list[dict]]:
        """Each day's payloads, both sides of each row; shifted so the last day is yesterday."""
        shift = self._shift()
        by_day: dict[object, list[IbmRow]] = defaultdict(list)
        for row in sorted(self.rows, key=lambda row: row.at):
            by_day[(row.at + shift).date()].append(row)
        for day in sorted(by_day):
            payloads = []
            for row in by_day[day]:
                for direction, (amount, currency) in (
                    ("outbound", row.paid),
                    ("inbound", row.received),
                ):
                    code = CURRENCIES.get(currency, "XBT")
                    payloads.append(
                        _payload(
                            f"{row.external_id}-{direction[:3]}",
                            row.at + shift,
                            _to_minor_units(Decimal(amount), code),
                            code,
                            PAYMENT_TYPES[row.payment_format],
                            direction,
                            row.sender,
                            row.receiver,
                        )
                    )
            yield payloads


def _ibm_row(external_id: str, row: dict, from_bank: str, to_bank: str, attempt=None) -> IbmRow:
    account_from = row.get("from_account")
    account_to = row.get("to_account")
    return IbmRow(
        external_id=external_id,
        at=datetime.strptime(row["timestamp"], "%Y/%m/%d %H:%M").replace(tzinfo=UTC),
        sender=f"{int(from_bank)}-{account_from or row['from_account_id']}",
        receiver=f"{int(to_bank)}-{account_to or row['to_account_id']}",
        paid=(row["amount_paid"], row["payment_currency"]),
        received=(row["amount_received"], row["receiving_currency"]),
        payment_format=row["payment_format"],
        attempt=attempt["attempt_id"] if attempt else None,
        typology=attempt["typology"] if attempt else None,
    )


def _to_minor_units(amount: Decimal, currency: str) -> Decimal:
    """Rounded to the currency's decimals (the file gives yen in hundredths)."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def _payload(
    external_id: str,
    at: datetime,
    amount: Decimal,
    currency: str,
    kind: str,
    direction: str,
    sender: str,
    receiver: str,
) -> dict:
    return {
        "external_id": external_id,
        "occurred_at": iso_utc(at),
        "amount": str(amount),
        "currency": currency,
        "type": kind,
        "direction": direction,
        "originator": {"account_id": sender, "customer_id": sender},
        "beneficiary": {"account_id": receiver, "customer_id": receiver},
    }


# --- Figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    label: str
    total: int
    found: int

    @property
    def share(self) -> float | None:
        return self.found / self.total if self.total else None


@dataclass(frozen=True)
class DatasetFigures:
    """Rows of (label, total, found) and, per rule, how many positives and negatives it hit."""

    rows: list[Share]
    by_rule: dict[str, tuple[int, int]]  # rule code -> (positives hit, negatives hit)
    positives: str  # what the positives are: "laundering accounts", "attempts"
    negatives: str


def amlsim_figures(data: AmlSim, partner: PartnerBank) -> DatasetFigures:
    hits = live_hits(partner)
    codes_of: dict[str, set[str]] = defaultdict(set)
    for external_id, codes in hits.items():
        codes_of[data.customer_of(external_id)] |= codes
    hit = set(codes_of)
    named = hit | network_members_named(partner, hits)
    laundering, normal = data.laundering, data.accounts - data.laundering
    exchanged = data.exchanged_with_laundering()
    by_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for account, codes in codes_of.items():
        for code in codes:
            by_rule[code][0 if account in laundering else 1] += 1
    return DatasetFigures(
        rows=[
            Share("laundering accounts, hit", len(laundering), len(laundering & hit)),
            Share("  hit or named in a ring", len(laundering), len(laundering & named)),
            Share("exchanged with laundering, hit", len(exchanged), len(exchanged & hit)),
            Share("  hit or named in a ring", len(exchanged), len(exchanged & named)),
            Share("normal accounts, hit", len(normal), len(normal & hit)),
            Share("  hit or named in a ring", len(normal), len(normal & named)),
        ],
        by_rule={code: (pos, neg) for code, (pos, neg) in sorted(by_rule.items())},
        positives="laundering accounts",
        negatives="normal accounts",
    )


def ibm_figures(data: IbmPatterns, partner: PartnerBank) -> DatasetFigures:
    hits = live_hits(partner)
    codes_of = {
        row.external_id: hits.get(f"{row.external_id}-out", set())
        | hits.get(f"{row.external_id}-in", set())
        for row in data.rows
    }
    attempts: dict[str, set[str]] = defaultdict(set)  # attempt -> rule codes on its rows
    typology_of: dict[str, str] = {}
    for row in data.rows:
        if row.attempt is not None:
            attempts[row.attempt] |= codes_of[row.external_id]
            typology_of[row.attempt] = row.typology
    rows = []
    for typology in sorted(set(typology_of.values())):
        mine = [a for a, t in typology_of.items() if t == typology]
        rows.append(Share(typology, len(mine), sum(bool(attempts[a]) for a in mine)))
    rows.append(Share("all attempts", len(attempts), sum(bool(c) for c in attempts.values())))
    normal = [row for row in data.rows if row.attempt is None]
    rows.append(
        Share("normal rows, hit", len(normal), sum(bool(codes_of[r.external_id]) for r in normal))
    )
    by_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for codes in attempts.values():
        for code in codes:
            by_rule[code][0] += 1
    for row in normal:
        for code in codes_of[row.external_id]:
            by_rule[code][1] += 1
    return DatasetFigures(
        rows=rows,
        by_rule={code: (pos, neg) for code, (pos, neg) in sorted(by_rule.items())},
        positives="attempts",
        negatives="normal rows",
    )


@dataclass(frozen=True)
class RingFigures:
    """What the window scan's live ring rules reached on a labelled (demo) population."""

    rings: int
    planted_named: Share
    normal_alerted: Share  # the hub of a ring: the alert's subject
    normal_named: Share  # a member of a ring, named in its alert


def demo_ring_figures() -> RingFigures:
    """Scan the labelled partners' graphs day by day (as beat would have), then count the
    accounts that live ring rules alerted on or named."""
    labelled = set(TypologyLabel.objects.values_list("partner_id", "account_external_id"))
    partners = {partner_id for partner_id, _ in labelled}
    for partner_id in sorted(partners):
        rings_scan(partner_id)
    rings = [ring for partner_id in sorted(partners) for ring in live_rings(partner_id)]
    hubs = {(ring.partner_id, ring.hub) for ring in rings}
    named = {(ring.partner_id, member) for ring in rings for member in ring.members}
    accounts = set(
        Account.objects.filter(partner_id__in=partners).values_list("partner_id", "external_id")
    )
    normal = accounts - labelled
    return RingFigures(
        rings=len(rings),
        planted_named=Share(
            "planted accounts named in a ring", len(labelled), len(labelled & named)
        ),
        normal_alerted=Share(
            "normal accounts alerted (a ring's hub)", len(normal), len(normal & hubs)
        ),
        normal_named=Share("normal accounts named in a ring", len(normal), len(normal & named)),
    )
