"""Pre-fill a SAR draft from a case.

The case model lives elsewhere, so the builder works from a small explicit input,
:class:`SarSource`: the subject, its accounts, the transactions (Sentinel ``Transaction`` rows or
plain dicts with the ingest-contract fields), the typologies, the narrative and the reporting
entity. :func:`sar_source_from_transactions` fills one from the database in four queries (the
fourth reads the stored exchange rates); connecting a Case is a few lines (see ``docs/sar.md``).

Amounts in another currency than the report's are converted with the stored exchange rates
(transactions.selectors, the one conversion rule): the rate of the transaction's date, named
with its date and source beside each converted amount. Sentinel never invents a rate: without
one the amount stays unknown and the export says which rate is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from rules.choices import Typology
from transactions.models import Account as AccountRow
from transactions.models import Customer, Transaction
from transactions.selectors import AppliedRate, RateBook, rate_date

from .document import (
    Account,
    Entity,
    Indicator,
    Party,
    PartyKind,
    Person,
    ReportingEntity,
    ReportTransaction,
    SarDocument,
    TransactionSide,
    clean_text,
    quantize,
)

# Transaction types whose non-customer side is cash, not an account.
_CASH_IN = {"cash_deposit"}
_CASH_OUT = {"cash_withdrawal"}
# Names that look like a legal person rather than a natural one.
_ENTITY_NAME = re.compile(
    r"\b(ltd|limited|llc|l\.l\.c|inc|incorporated|corp|corporation|co|company|plc|gmbh|ag|sa|"
    r"s\.a|sarl|bv|b\.v|nv|n\.v|spa|s\.p\.a|srl|oy|ab|as|kk|pte|pty|llp|lp|holdings?|group|"
    r"trust|foundation|bank|fund)\.?$",
    re.IGNORECASE,
)
_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
DEFAULT_TRANSACTION_LIMIT = 500


@dataclass
class SarSubject:
    """The case's subject: a customer of the reporting entity."""

    customer_id: str  # the partner's external customer id
    name: str = ""
    country: str = ""
    kind: PartyKind | None = None  # None: guessed from the name
    accounts: list[str] = field(default_factory=list)  # the partner's external account ids


@dataclass
class SarSource:
    """Everything a SAR draft is made from. Transactions are ``transactions.models.Transaction``
    objects or dicts shaped like the ingest contract (``external_id``, ``occurred_at``,
    ``amount``, ``currency``, ``type``, ``status``, ``direction``, ``channel``, ``originator`` and
    ``beneficiary`` objects with ``account_id``, ``customer_id``, ``name``, ``country``, ``bank``,
    ``device_id``, ``ip_address``; optionally ``id``)."""

    reporting_entity: ReportingEntity
    subject: SarSubject
    transactions: Sequence[Any]
    reference: str  # the case reference, written as entity_reference
    typologies: Sequence[str] = ()
    narrative: str = ""
    action: str = ""
    report_code: str = "SAR"
    currency_code_local: str | None = None  # None: the most frequent transaction currency
    # (currency, UTC date of the transaction) -> the stored rate into currency_code_local
    # (stored_exchange_rates); a pair missing here leaves the amount unknown.
    rates: Mapping[tuple[str, date], AppliedRate] = field(default_factory=dict)
    client_accounts: Mapping[str, str] = field(default_factory=dict)  # account id → customer id
    submission_date: datetime | None = None
    title: str = ""


@runtime_checkable
class SarCase(Protocol):
    """What ``sar_document_from_case`` needs from a case: a way to describe itself."""

    def sar_source(self) -> SarSource: ...


def sar_document_from_case(case: SarCase | SarSource) -> SarDocument:
    """The pre-filled SAR draft of a case (anything with ``sar_source()``) or of a SarSource."""
    source = case if isinstance(case, SarSource) else case.sar_source()
    return sar_document_from_source(source)


# --- From the database -------------------------------------------------------------------------


def reporting_entity_for(partner, *, prepared_by=None) -> ReportingEntity:
    """The partner's goAML reporting-entity settings.

    Read from the partner's ``SarReportingEntity`` (edited in the admin), else from
    ``settings.SENTINEL_SAR_REPORTING_ENTITIES[partner.slug]`` (a dict with
    ``rentity_id``, ``rentity_branch``, ``swift``, ``institution_code``, ``country``,
    ``funds_codes``, ``transmode_codes``, ``indicator_codes``); the reporting person is the user
    preparing the report. Without settings ``rentity_id`` stays empty and the export says so.
    """
    config = _entity_config(partner)
    person = Person(first_name="", last_name="", occupation="Investigator")
    if prepared_by is not None:
        person = Person(
            first_name=clean_text(getattr(prepared_by, "first_name", "")),
            last_name=clean_text(
                getattr(prepared_by, "last_name", "") or prepared_by.get_username()
            ),
            email=clean_text(getattr(prepared_by, "email", "")),
            occupation="Investigator",
        )
    rentity_id = config.pop("rentity_id", None)
    return ReportingEntity(
        rentity_id=int(rentity_id) if rentity_id not in (None, "") else None,
        name=config.pop("name", partner.name),
        reporting_person=person,
        **{key: value for key, value in config.items() if key in _ENTITY_KEYS},
    )


def _entity_config(partner) -> dict:
    from cases.models import SarReportingEntity

    entity = SarReportingEntity.objects.filter(partner=partner).first()
    if entity is not None:
        return entity.settings()
    return dict(getattr(settings, "SENTINEL_SAR_REPORTING_ENTITIES", {}).get(partner.slug, {}))


_ENTITY_KEYS = {
    "rentity_branch",
    "swift",
    "institution_code",
    "country",
    "address",
    "city",
    "funds_codes",
    "transmode_codes",
    "indicator_codes",
}


def sar_source_from_transactions(
    *,
    partner,
    customer_external_id: str,
    reference: str,
    transactions: Iterable[Any] | None = None,
    typologies: Sequence[str] = (),
    narrative: str = "",
    action: str = "",
    reporting_entity: ReportingEntity | None = None,
    prepared_by=None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = DEFAULT_TRANSACTION_LIMIT,
    **options: Any,
) -> SarSource:
    """A SarSource for a partner's customer, from the database.

    ``transactions`` (a queryset or list) defaults to the transactions on the customer's accounts,
    optionally within ``since``/``until``, oldest first, at most ``limit``. Four queries: the
    customer with its accounts, the transactions, which counterparty accounts are also the
    partner's clients, and the stored exchange rates into the report's currency (the
    partner's reporting currency unless ``currency_code_local`` is given). ``options`` go to
    SarSource (``report_code``, ``currency_code_local``, ``submission_date``, ``title``).
    """

    customer = (
        Customer.objects.filter(partner=partner, external_id=customer_external_id)
        .prefetch_related("accounts")
        .first()
    )
    accounts = sorted(a.external_id for a in customer.accounts.all()) if customer else []
    if transactions is None:
        rows = Transaction.objects.filter(partner=partner).filter(
            Q(originator_account_id__in=accounts)
            | Q(beneficiary_account_id__in=accounts)
            | Q(originator_customer_id=customer_external_id)
            | Q(beneficiary_customer_id=customer_external_id)
        )
        if since is not None:
            rows = rows.filter(occurred_at__gte=since)
        if until is not None:
            rows = rows.filter(occurred_at__lt=until)
        transactions = rows.order_by("occurred_at", "id")[:limit]
    transactions = list(transactions)
    counterparty_accounts = (
        {
            _get(tx, f"{side}_account_id")
            for tx in transactions
            for side in ("originator", "beneficiary")
        }
        - set(accounts)
        - {""}
    )
    local = options.pop("currency_code_local", None) or partner.reporting_currency
    rates = stored_exchange_rates(
        ((_get_currency(tx), rate_date(_get_occurred(tx))) for tx in transactions), local
    )
    client_accounts = dict.fromkeys(accounts, customer_external_id)
    if counterparty_accounts:
        client_accounts.update(
            AccountRow.objects.filter(partner=partner, external_id__in=counterparty_accounts)
            .values_list("external_id", "customer__external_id")
            .iterator()
        )
    return SarSource(
        reporting_entity=reporting_entity or reporting_entity_for(partner, prepared_by=prepared_by),
        subject=SarSubject(
            customer_id=customer_external_id,
            name=customer.name if customer else "",
            country=customer.country if customer else "",
            accounts=accounts,
        ),
        transactions=transactions,
        reference=reference,
        typologies=list(typologies),
        narrative=narrative,
        action=action,
        client_accounts={k: v or "" for k, v in client_accounts.items()},
        currency_code_local=local,
        rates=rates,
        **options,
    )


def stored_exchange_rates(
    needs: Iterable[tuple[str, date]], local: str
) -> dict[tuple[str, date], AppliedRate]:
    """The stored rate into ``local`` for each (currency, day) that has one, in one query
    (transactions.selectors.RateBook: the rule every conversion follows)."""
    needs = {(currency, day) for currency, day in needs if currency and currency != local}
    book = RateBook.load((currency, local, day) for currency, day in needs)
    found = {(currency, day): book.rate(currency, local, day) for currency, day in needs}
    return {key: rate for key, rate in found.items() if rate}


def sar_document_convert(doc: SarDocument, rates: Mapping[tuple[str, date], AppliedRate]) -> None:
    """Convert every transaction of ``doc`` into its ``currency_code_local`` with ``rates``
    (as ``stored_exchange_rates`` gives them), naming each rate; a transaction without one
    gets no local amount, which the export refuses by name."""
    local = doc.currency_code_local
    for tx in doc.transactions:
        _convert(tx, local, rates.get((tx.currency, rate_date(tx.date_transaction))))


def document_rate_needs(doc: SarDocument) -> list[tuple[str, date]]:
    """(currency, day) of each transaction: what ``stored_exchange_rates`` is asked for."""
    return [(tx.currency, rate_date(tx.date_transaction)) for tx in doc.transactions]


def _convert(tx: ReportTransaction, local: str, rate: AppliedRate | None) -> None:
    tx.exchange_rate = tx.exchange_rate_date = None
    tx.exchange_rate_source = ""
    if tx.currency == local:
        tx.amount_local = quantize(tx.amount, local)
    elif rate is None:
        tx.amount_local = None
    else:
        tx.amount_local = rate.convert(tx.amount).amount
        tx.exchange_rate, tx.exchange_rate_date = rate.rate, rate.date
        tx.exchange_rate_source = rate.source


# --- The pre-fill ------------------------------------------------------------------------------


def sar_document_from_source(source: SarSource) -> SarDocument:
    entity = source.reporting_entity
    rows = sorted((_normalise(tx) for tx in source.transactions), key=_row_order)
    local = source.currency_code_local or _dominant_currency(rows) or "USD"
    subject_accounts = set(source.subject.accounts)
    # The subject's accounts also include those the transactions show on its side.
    for row in rows:
        for side in ("originator", "beneficiary"):
            if row[side]["customer_id"] == source.subject.customer_id and row[side]["account_id"]:
                subject_accounts.add(row[side]["account_id"])

    builder = _PartyBook(source, subject_accounts)
    transactions = [_transaction(row, source, local, builder) for row in rows]
    return SarDocument(
        reporting_entity=entity,
        report_code=source.report_code,
        entity_reference=clean_text(source.reference),
        submission_date=source.submission_date or timezone.now().replace(microsecond=0),
        currency_code_local=local,
        reason=clean_text(source.narrative).strip(),
        action=clean_text(source.action).strip(),
        indicators=_indicators(source.typologies, entity),
        parties=builder.parties(),
        accounts=[builder.account(number) for number in sorted(subject_accounts)],
        transactions=transactions,
        title=clean_text(source.title),
    )


def indicators_for(typologies: Sequence[str], entity: ReportingEntity) -> list[Indicator]:
    """The report's indicators for Sentinel typologies, coded as the filer's FIU wants."""
    return _indicators(typologies, entity)


def _indicators(typologies: Sequence[str], entity: ReportingEntity) -> list[Indicator]:

    labels = dict(Typology.choices)
    seen: list[Indicator] = []
    for typology in dict.fromkeys(str(t) for t in typologies if t):
        seen.append(
            Indicator(
                code=entity.indicator_codes.get(typology, typology),
                label=str(labels.get(typology, "")),
                typology=typology,
            )
        )
    return seen


def _transaction(row: dict, source: SarSource, local: str, book: _PartyBook) -> ReportTransaction:
    entity = source.reporting_entity
    currency = row["currency"]
    amount = quantize(row["amount"], currency)
    tx_type = row["type"]
    from_cash, to_cash = tx_type in _CASH_IN, tx_type in _CASH_OUT
    details = [
        f"status {row['status']}" if row["status"] else "",
        f"channel {row['channel']}" if row["channel"] else "",
        f"device {row['device_id']}" if row["device_id"] else "",
        f"IP {row['ip_address']}" if row["ip_address"] else "",
    ]
    report_transaction = ReportTransaction(
        transactionnumber=clean_text(row["external_id"]),
        internal_ref_number=str(row["id"] or ""),
        date_transaction=row["occurred_at"],
        transmode_code=entity.transmode_codes.get(tx_type, tx_type),
        amount=amount,
        currency=currency,
        transaction_description=clean_text(
            f"{tx_type.replace('_', ' ')} of {amount} {currency} ({row['direction']})"
        ),
        comments="; ".join(part for part in details if part),
        t_from=book.side(row, "originator", cash=from_cash, currency=currency),
        t_to=book.side(row, "beneficiary", cash=to_cash, currency=currency),
    )
    rate = source.rates.get((currency, rate_date(row["occurred_at"])))
    _convert(report_transaction, local, rate)
    return report_transaction


class _PartyBook:
    """Collects the parties and accounts the transactions show, one entry per reference."""

    def __init__(self, source: SarSource, subject_accounts: set[str]):
        self.source = source
        self.subject_accounts = subject_accounts
        self._parties: dict[str, Party] = {}
        self._accounts: dict[str, Account] = {}
        subject = source.subject
        self.subject = Party(
            reference=subject.customer_id,
            kind=subject.kind or guess_kind(subject.name),
            name=clean_text(subject.name) or subject.customer_id,
            role="subject",
            is_my_client=True,
            country=subject.country,
        )
        self._fill_identity(self.subject, id_number=subject.customer_id)
        self._parties[self.subject.reference] = self.subject

    def parties(self) -> list[Party]:
        self.subject.account_numbers = sorted(self.subject_accounts)
        return list(self._parties.values())

    def account(self, number: str, party: dict | None = None, currency: str = "") -> Account:
        """The account, created on first sight (the subject's own accounts are my-client)."""
        if number in self._accounts:
            found = self._accounts[number]
            if currency and not found.currency_code:
                found.currency_code = currency
            return found
        entity = self.source.reporting_entity
        is_subject = number in self.subject_accounts
        client_of = self.source.client_accounts.get(number)
        mine = is_subject or client_of is not None
        party = party or {}
        bank = (party.get("bank") or "").strip().upper()
        holder = self.subject if is_subject else None
        account = Account(
            account=number,
            institution_name=entity.name if mine else bank,
            swift=entity.swift if mine else (bank if _BIC.match(bank) else ""),
            institution_code=(
                entity.institution_code if mine else ("" if _BIC.match(bank) else bank)
            ),
            currency_code=currency,
            account_name=holder.name if holder else clean_text(party.get("name", "")),
            client_number=(
                self.subject.reference
                if is_subject
                else (client_of or party.get("customer_id", ""))
            ),
            is_my_client=mine,
            holder_reference=holder.reference if holder else "",
        )
        if account.swift and account.institution_code:
            account.institution_code = ""
        self._accounts[number] = account
        return account

    def side(self, row: dict, side: str, *, cash: bool, currency: str) -> TransactionSide:
        party = row[side]
        number = party["account_id"]
        customer_side = (row["direction"] == "outbound") == (side == "originator")
        reference = self._party_reference(party)
        entity = self.source.reporting_entity
        funds = "cash" if cash else ("card" if row["type"] == "card_payment" else "account")
        mine = (
            customer_side
            or number in self.subject_accounts
            or (number in self.source.client_accounts)
        )
        result = TransactionSide(
            funds_code=entity.funds_codes.get(funds, funds),
            my_client=bool(mine and number and not cash),
            country=party["country"] or (entity.country if customer_side else ""),
        )
        if cash or not (number or party["name"] or party["customer_id"]):
            result.funds_comment = "cash" if cash else "counterparty not identified"
            return result
        record = self._party(party, reference, mine=mine, account=number)
        result.party_reference = record.reference
        if number:
            account = self.account(number, party, currency)
            if not account.holder_reference:
                account.holder_reference = record.reference
            result.account = account
        elif record.kind == "person":
            result.person = record.person
        else:
            result.entity = record.entity
        return result

    def _party_reference(self, party: dict) -> str:
        if party["account_id"] in self.subject_accounts:
            return self.subject.reference
        if party["customer_id"]:
            return party["customer_id"]
        client = self.source.client_accounts.get(party["account_id"])
        if client:
            return client
        return party["account_id"] or f"name:{party['name']}"

    def _party(self, party: dict, reference: str, *, mine: bool, account: str) -> Party:
        record = self._parties.get(reference)
        if record is None:
            name = clean_text(party["name"]) or reference
            record = Party(
                reference=reference,
                kind=guess_kind(name),
                name=name,
                is_my_client=mine,
                country=party["country"],
            )
            self._fill_identity(record, id_number=party["customer_id"] if mine else "")
            self._parties[reference] = record
        record.transaction_count += 1
        if account and account not in record.account_numbers and record.role != "subject":
            record.account_numbers.append(account)
        return record

    @staticmethod
    def _fill_identity(record: Party, *, id_number: str) -> None:
        if record.kind == "person":
            first, last = split_name(record.name)
            record.person = Person(
                first_name=first,
                last_name=last,
                id_number=clean_text(id_number),
                nationality1=record.country,
            )
        else:
            record.entity = Entity(
                name=record.name,
                incorporation_number="",
                incorporation_country_code=record.country,
            )


def guess_kind(name: str) -> PartyKind:
    """'entity' for names ending like a company ("Acme Trading Ltd"), else 'person'."""
    return "entity" if _ENTITY_NAME.search((name or "").strip().rstrip(",")) else "person"


def split_name(name: str) -> tuple[str, str]:
    """(first names, last name): the last word is the last name; one word is a last name."""
    parts = (name or "").split()
    if not parts:
        return "", ""
    return " ".join(parts[:-1]), parts[-1]


# --- Transactions or dicts ---------------------------------------------------------------------


def _get(tx: Any, name: str) -> str:
    if isinstance(tx, Mapping):
        side, _, key = name.partition("_")
        if side in ("originator", "beneficiary") and isinstance(tx.get(side), Mapping):
            return str(tx[side].get(key) or "")
        return str(tx.get(name) or "")
    return str(getattr(tx, name, "") or "")


def _get_currency(tx: Any) -> str:
    return _get(tx, "currency").upper()


def _get_occurred(tx: Any) -> datetime:
    occurred = tx.get("occurred_at") if isinstance(tx, Mapping) else tx.occurred_at
    if isinstance(occurred, str):
        occurred = datetime.fromisoformat(occurred.replace("Z", "+00:00"))
    return occurred


def _normalise(tx: Any) -> dict:
    """One transaction (model row or contract dict) as the fields the builder reads."""
    if isinstance(tx, Mapping):
        row = {
            "id": tx.get("id") or "",
            "external_id": str(tx.get("external_id") or ""),
            "occurred_at": _get_occurred(tx),
            "amount": Decimal(str(tx.get("amount"))),
            "currency": str(tx.get("currency") or "").upper(),
            "type": str(tx.get("type") or ""),
            "status": str(tx.get("status") or ""),
            "direction": str(tx.get("direction") or "outbound"),
            "channel": str(tx.get("channel") or ""),
            "device_id": str(tx.get("device_id") or ""),
            "ip_address": str(tx.get("ip_address") or ""),
        }
        for side in ("originator", "beneficiary"):
            party = tx.get(side) or {}
            row[side] = {
                key: str(party.get(key) or "")
                for key in ("account_id", "customer_id", "name", "country", "bank")
            }
        return row
    row = {
        "id": tx.pk,
        "external_id": tx.external_id,
        "occurred_at": tx.occurred_at,
        "amount": tx.amount,
        "currency": tx.currency,
        "type": tx.type,
        "status": tx.status,
        "direction": tx.direction,
        "channel": tx.channel or "",
        "device_id": tx.device_id or "",
        "ip_address": str(tx.ip_address or ""),
    }
    for side in ("originator", "beneficiary"):
        row[side] = {key: str(value or "") for key, value in tx.party(side).items()}
    return row


def _row_order(row: dict) -> tuple:
    return (row["occurred_at"], row["external_id"])


def _dominant_currency(rows: list[dict]) -> str | None:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["currency"]] = counts.get(row["currency"], 0) + 1
    if not counts:
        return None
    return max(sorted(counts), key=lambda currency: counts[currency])
