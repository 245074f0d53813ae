"""Reads for partners, transactions, profiles, labels and exchange rates."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from django.conf import settings
from django.db.models import CharField, F, Func, Prefetch, Q, Value
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from . import profile_cache
from .choices import Direction, LabelSource, RateSource
from .models import (
    Account,
    AccountProfile,
    ExchangeRate,
    PartnerBank,
    Transaction,
    TransactionLabel,
    TransactionLabelEvent,
)
from .money import convert


def account_profile_get(*, partner_id: int, account_external_id: str) -> dict | None:
    """The account's profile from Redis; on a miss, from PostgreSQL, refilling the cache."""
    cached = profile_cache.cached_profile(partner_id, account_external_id)
    if cached is not None:
        return cached
    profile = (
        AccountProfile.objects.select_related("account__customer")
        .filter(account__partner_id=partner_id, account__external_id=account_external_id)
        .first()
    )
    if profile is None:
        return None
    cached = profile_cache.profile_as_dict(profile)
    profile_cache.cache_profiles({(partner_id, account_external_id): cached})
    return cached


def partner_activity_summary() -> list[dict]:
    """Per partner: transactions in the last 24 hours, by status, and the latest one."""
    from django.db.models import Count, Max, Q

    since = timezone.now() - timedelta(hours=24)
    recent = Q(transactions__occurred_at__gte=since)
    rows = PartnerBank.objects.annotate(
        last_24h=Count("transactions", filter=recent),
        failed=Count("transactions", filter=recent & Q(transactions__status="failed")),
        denied=Count("transactions", filter=recent & Q(transactions__status="denied")),
        reversed=Count("transactions", filter=recent & Q(transactions__status="reversed")),
        last_occurred_at=Max("transactions__occurred_at"),
    ).order_by("name")
    return list(rows)


def transaction_of_partner(*, partner: PartnerBank, transaction_id: str) -> Transaction | None:
    """The partner's own transaction with this id; None for another partner's, an unknown
    or a malformed id alike (a partner cannot tell them apart)."""
    try:
        pk = uuid.UUID(str(transaction_id))
    except ValueError:
        return None
    return Transaction.objects.select_related("partner").filter(partner=partner, pk=pk).first()


def partner_feedback_prefetch(prefix: str = "") -> Prefetch:
    """Puts a transaction's current partner feedback in ``partner_feedback`` (a list of at
    most one), for lists that show it."""
    return Prefetch(
        f"{prefix}labels",
        queryset=TransactionLabel.objects.filter(source=LabelSource.PARTNER_FEEDBACK),
        to_attr="partner_feedback",
    )


def partner_feedback_of(transaction: Transaction) -> TransactionLabel | None:
    """The transaction's current partner feedback (prefetched or read)."""
    prefetched = getattr(transaction, "partner_feedback", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return transaction.labels.filter(source=LabelSource.PARTNER_FEEDBACK).first()


def labels_prefetch(prefix: str = "") -> Prefetch:
    """A transaction's current labels, one per source, with who set them (staff pages)."""
    return Prefetch(
        f"{prefix}labels",
        queryset=TransactionLabel.objects.select_related("actor").order_by("source"),
    )


def transaction_label_history(transaction: Transaction) -> list[TransactionLabelEvent]:
    """Every label recorded for the transaction, oldest first."""
    return list(
        TransactionLabelEvent.objects.filter(transaction=transaction)
        .select_related("actor")
        .order_by("received_at", "id")
    )


# --- Exchange rates ------------------------------------------------------------------------------
#
# The rule of every conversion (docs/currencies.md):
# 1. The same currency needs no rate (rate 1).
# 2. Otherwise the stored rate of the pair (either way round: USD->EUR is 1 / EUR->USD) of the
#    transaction's date (the UTC date of occurred_at), else the latest one published before it,
#    at most SENTINEL_EXCHANGE_RATE_MAX_AGE_DAYS days before (weekends, holidays). On the same
#    day a rate entered by staff wins over an imported one, and a stored direction over its
#    inverse.
# 3. No such pair: a cross rate through the euro (the ECB's base), each leg found by rule 2;
#    it is dated by the older leg.
# 4. A derived rate (inverse, cross) is rounded half-even to RATE_SIGNIFICANT_DIGITS; the
#    converted amount is amount x rate rounded half-even to the target's minor unit
#    (transactions.money.convert), so the rate named beside an amount reproduces it.
# 5. Nothing found: NoRate, which says what is missing; never 0.

RATE_BASE = "EUR"
RATE_SIGNIFICANT_DIGITS = 12
_SOURCE_RANK = {RateSource.MANUAL: 0, RateSource.ECB: 1}  # lower wins on the same day


@dataclass(frozen=True)
class AppliedRate:
    """The rate a conversion used: units of ``to_currency`` for one unit of ``from_currency``,
    published on ``date`` by ``source`` ("ecb", "manual"; both, comma-separated, for a cross
    rate of two sources). ``via`` says how it was found: "" the stored pair, "inverse", "EUR"
    (a cross rate). ``date`` is None and ``source`` "" when the currencies are the same."""

    from_currency: str
    to_currency: str
    rate: Decimal
    date: date | None
    source: str
    via: str = ""

    def convert(self, amount: Decimal) -> Conversion:
        return Conversion(amount=convert(amount, self.rate, self.to_currency), rate=self)

    def describe(self) -> str:
        """'0.925926 EUR per USD (ecb, 2026-11-20)', for explanations and reports."""
        if self.date is None:
            return f"same currency ({self.to_currency})"
        how = {"": "", "inverse": ", inverse", RATE_BASE: f", cross via {RATE_BASE}"}[self.via]
        return (
            f"{format(self.rate, 'f')} {self.to_currency} per {self.from_currency} "
            f"({self.source}, {self.date.isoformat()}{how})"
        )


@dataclass(frozen=True)
class Conversion:
    """An amount converted into ``rate.to_currency``, and the rate that converted it."""

    amount: Decimal
    rate: AppliedRate

    @property
    def currency(self) -> str:
        return self.rate.to_currency


@dataclass(frozen=True)
class NoRate:
    """No usable rate: what was asked and why it has no answer. False in a boolean test, so
    ``if conversion:`` reads naturally; it has no amount, so it can never pass for zero."""

    from_currency: str
    to_currency: str
    on_date: date
    max_age_days: int

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        return (
            f"no {self.from_currency}\u2192{self.to_currency} exchange rate on "
            f"{self.on_date.isoformat()} or in the {self.max_age_days} days before"
        )


RateNeed = tuple[str, str, date]  # (from currency, to currency, date)


class RateBook:
    """The stored rates a set of conversions needs, read in one query, then applied in memory
    by the rule above. Build it with ``RateBook.load(needs)``."""

    def __init__(self, rows: Iterable[tuple], *, max_age_days: int):
        self.max_age = timedelta(days=max_age_days)
        self.max_age_days = max_age_days
        # (base, quote) -> [(date, source, rate)], newest first, the preferred source first
        self._pairs: dict[tuple[str, str], list[tuple[date, str, Decimal]]] = {}
        for day, base, quote, rate, source in rows:
            self._pairs.setdefault((base, quote), []).append((day, source, rate))
        for stored in self._pairs.values():
            stored.sort(key=lambda row: (-row[0].toordinal(), _SOURCE_RANK.get(row[1], 9)))
        self._answers: dict[RateNeed, AppliedRate | NoRate] = {}

    @classmethod
    def load(cls, needs: Iterable[RateNeed]) -> RateBook:
        max_age_days = settings.SENTINEL_EXCHANGE_RATE_MAX_AGE_DAYS
        needs = [need for need in needs if need[0] != need[1]]
        if not needs:
            return cls((), max_age_days=max_age_days)
        currencies = {currency for need in needs for currency in need[:2]} | {RATE_BASE}
        days = [need[2] for need in needs]
        rows = ExchangeRate.objects.filter(
            date__gte=min(days) - timedelta(days=max_age_days),
            date__lte=max(days),
            base__in=currencies,
            quote__in=currencies,
        ).values_list("date", "base", "quote", "rate", "source")
        return cls(rows, max_age_days=max_age_days)

    def rate(self, from_currency: str, to_currency: str, on_date: date) -> AppliedRate | NoRate:
        key = (from_currency, to_currency, on_date)
        if key not in self._answers:
            self._answers[key] = self._find(from_currency, to_currency, on_date)
        return self._answers[key]

    def _find(self, from_currency: str, to_currency: str, on_date: date) -> AppliedRate | NoRate:
        if from_currency == to_currency:
            return AppliedRate(from_currency, to_currency, Decimal(1), None, "")
        direct = self._leg(from_currency, to_currency, on_date)
        if direct is not None:
            rate, day, source, inverse = direct
            return AppliedRate(
                from_currency, to_currency, rate, day, source, "inverse" if inverse else ""
            )
        if RATE_BASE not in (from_currency, to_currency):
            leg_from = self._leg(RATE_BASE, from_currency, on_date)
            leg_to = self._leg(RATE_BASE, to_currency, on_date)
            if leg_from is not None and leg_to is not None:
                with localcontext() as context:
                    context.prec = 40
                    rate = _significant(leg_to[0] / leg_from[0])
                return AppliedRate(
                    from_currency,
                    to_currency,
                    rate,
                    min(leg_from[1], leg_to[1]),
                    ", ".join(sorted({leg_from[2], leg_to[2]})),
                    RATE_BASE,
                )
        return NoRate(from_currency, to_currency, on_date, self.max_age_days)

    def _leg(self, base: str, quote: str, on_date: date) -> tuple | None:
        """(rate, date, source, inverse) of the best stored rate for base->quote: the newest
        within the age limit; on one day staff's before an import, the stored way round before
        the inverse."""
        oldest = on_date - self.max_age
        best = None
        for inverse, pair in ((False, (base, quote)), (True, (quote, base))):
            for day, source, rate in self._pairs.get(pair, ()):
                if day > on_date:
                    continue
                if day < oldest:
                    break
                rank = (day.toordinal(), -_SOURCE_RANK.get(source, 9), not inverse)
                if best is None or rank > best[0]:
                    best = (rank, rate, day, source, inverse)
                break  # newest first: the first one in range is this direction's best
        if best is None:
            return None
        _, rate, day, source, inverse = best
        if inverse:
            with localcontext() as context:
                context.prec = 40
                return _significant(1 / rate), day, source, True
        return _plain(rate), day, source, False


def _significant(value: Decimal) -> Decimal:
    """``value`` rounded half-even to RATE_SIGNIFICANT_DIGITS, without trailing zeros."""
    exponent = value.adjusted() - RATE_SIGNIFICANT_DIGITS + 1
    return _plain(value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN))


def _plain(value: Decimal) -> Decimal:
    """1.0854000000 -> 1.0854 and 160.0000 -> 160 (never 1.6E+2)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def amounts_converted(
    items: Sequence[tuple[Decimal, str, str, date]],
) -> list[Conversion | NoRate]:
    """Each (amount, currency, to_currency, on_date) converted by the rule above: one query
    for all of them."""
    book = RateBook.load((currency, to, day) for _, currency, to, day in items)
    results: list[Conversion | NoRate] = []
    for amount, currency, to_currency, on_date in items:
        rate = book.rate(currency, to_currency, on_date)
        results.append(rate.convert(amount) if rate else rate)
    return results


def amount_converted(
    amount: Decimal, currency: str, to_currency: str, on_date: date
) -> Conversion | NoRate:
    """``amount`` of ``currency`` in ``to_currency`` at ``on_date``'s rate (the rule above)."""
    return amounts_converted([(amount, currency, to_currency, on_date)])[0]


def rate_date(moment: datetime) -> date:
    """The day whose exchange rate converts an amount that moved at ``moment``: its UTC
    date (for rules' amount_base and SARs alike)."""
    return moment.astimezone(UTC).date()


def transactions_amount_base(transactions: Sequence[Transaction]) -> list[Conversion | NoRate]:
    """Each transaction's amount in its partner's reporting currency at its date: the rules'
    ``amount_base``. One query for the rates, plus one for the partners not already loaded
    with their transactions."""
    return _in_reporting_currency(transactions, _reporting_currencies(transactions))


def _in_reporting_currency(
    transactions: Sequence[Transaction], currencies: dict[int, str]
) -> list[Conversion | NoRate]:
    return amounts_converted(
        [
            (tx.amount, tx.currency, currencies[tx.partner_id], rate_date(tx.occurred_at))
            for tx in transactions
        ]
    )


def transactions_base_values(transactions: Sequence[Transaction]) -> list[Decimal | None]:
    """Each transaction's ``amount_base`` as a bare amount, None without a usable rate: for a
    caller that keeps the value and explains nothing (the network's edges, in the scoring
    path). A transaction already in its partner's reporting currency is its own amount (rule
    1: the conversion would only round it to the minor unit it already respects); only the
    others are converted."""
    currencies = _reporting_currencies(transactions)
    foreign = [tx for tx in transactions if tx.currency != currencies[tx.partner_id]]
    converted = iter(_in_reporting_currency(foreign, currencies) if foreign else ())
    values: list[Decimal | None] = []
    for tx in transactions:
        if tx.currency == currencies[tx.partner_id]:
            values.append(tx.amount)
        else:
            conversion = next(converted)
            values.append(conversion.amount if conversion else None)
    return values


def _reporting_currencies(transactions: Sequence[Transaction]) -> dict[int, str]:
    known: dict[int, str] = {}
    for tx in transactions:
        if tx.partner_id not in known and Transaction.partner.is_cached(tx):
            known[tx.partner_id] = tx.partner.reporting_currency
    missing = {tx.partner_id for tx in transactions} - set(known)
    if missing:
        known.update(
            PartnerBank.objects.filter(pk__in=missing).values_list("pk", "reporting_currency")
        )
    return known


@dataclass(frozen=True)
class CustomerAccount:
    """One of the partner's customer-side accounts, and whose it is (when known)."""

    partner_id: int
    account_external_id: str
    customer_external_id: str


def customer_accounts(*, customer_ids: Iterable[int]) -> dict[int, list[CustomerAccount]]:
    """The known accounts of these customers, by customer id."""
    rows = (
        Account.objects.filter(customer_id__in=set(customer_ids))
        .order_by("customer_id", "external_id")
        .values_list("customer_id", "partner_id", "external_id", "customer__external_id")
    )
    accounts: dict[int, list[CustomerAccount]] = {}
    for customer_id, partner_id, account, customer in rows:
        accounts.setdefault(customer_id, []).append(CustomerAccount(partner_id, account, customer))
    return accounts


def account_customers(*, accounts: Iterable[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """(partner id, account external id) -> its customer's external id, for those known."""
    wanted = set(accounts)
    if not wanted:
        return {}
    rows = Account.objects.filter(
        partner_id__in={partner for partner, _ in wanted},
        external_id__in={account for _, account in wanted},
        customer__isnull=False,
    ).values_list("partner_id", "external_id", "customer__external_id")
    return {(p, a): c for p, a, c in rows if (p, a) in wanted}


# A counterparty many accounts dealt with gets its first accounts only: past that, the alerts
# would bury the queue, and the investigator of the first finds the rest from its page.
COUNTERPARTY_ACCOUNTS_AT_MOST = 20


def counterparty_accounts(*, names: Iterable[str]) -> dict[str, list[CustomerAccount]]:
    """For each counterparty name, the customer-side accounts that dealt with it, most recent
    first: paid it (outbound) or were paid by it (inbound). Names compare as parties are told
    apart (``party_name_key``: case and spacing aside), so "ACME  Ltd" finds "Acme Ltd"."""
    wanted = {party_name_key(name): name for name in names}
    if not wanted:
        return {}
    rows = (
        Transaction.objects.annotate(
            originator_key=_name_key("originator_name"),
            beneficiary_key=_name_key("beneficiary_name"),
        )
        .filter(
            Q(direction=Direction.OUTBOUND, beneficiary_key__in=wanted)
            | Q(direction=Direction.INBOUND, originator_key__in=wanted)
        )
        .order_by("-occurred_at")
        .values_list(
            "direction",
            "partner_id",
            "originator_key",
            "originator_account_id",
            "originator_customer_id",
            "beneficiary_key",
            "beneficiary_account_id",
            "beneficiary_customer_id",
        )
    )
    accounts: dict[str, list[CustomerAccount]] = {}
    for direction, partner_id, *parties in rows.iterator(chunk_size=2000):
        originator, beneficiary = parties[:3], parties[3:]
        outbound = direction == Direction.OUTBOUND
        (name, _, _), (_, account, customer) = (
            (beneficiary, originator) if outbound else (originator, beneficiary)
        )
        found = accounts.setdefault(wanted[name], [])
        subject = CustomerAccount(partner_id, account, customer)
        if account and subject not in found and len(found) < COUNTERPARTY_ACCOUNTS_AT_MOST:
            found.append(subject)
    return accounts


def party_name_key(name: str) -> str:
    """A party's name as parties are told apart: case folded, spacing collapsed."""
    return " ".join(name.lower().split())


def _name_key(field: str) -> Func:
    """``party_name_key`` in SQL."""
    collapsed = Func(
        Trim(F(field)), Value(r"\s+"), Value(" "), Value("g"), function="regexp_replace"
    )
    return Lower(collapsed, output_field=CharField())
