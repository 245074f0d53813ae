"""A suspicious-activity report as plain typed data, shaped after the UNODC goAML report.

No ORM here: ``build.py`` fills a :class:`SarDocument` from a case, the investigator edits it
(``to_dict``/``from_dict`` give the editable draft to store with the case), and ``exports.py``
writes it as goAML-shaped XML and JSON and as a PDF filing document. Field names follow the goAML
element names where one exists (``rentity_id``, ``report_code``, ``amount_local`` ...); see
``docs/sar.md`` for what is goAML and what is a Sentinel subset.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from transactions.money import minor_units

SCHEMA_VERSION = "1.0"
REPORT_CODES = ("SAR", "STR")
SUBMISSION_CODES = ("E", "M")  # goAML: E electronic, M manual
PartyKind = Literal["person", "entity"]

# Characters XML 1.0 cannot carry (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/U+FFFF).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: object) -> str:
    """Text safe for XML 1.0, JSON and PDF: NFC-normalised, XML-illegal characters removed,
    CRLF/CR turned into LF, DEL and the C1 controls dropped. Escaping is left to the writers."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _XML_ILLEGAL.sub("", text)
    return "".join(ch for ch in text if not ("\x7f" <= ch <= "\x9f"))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """The amount with exactly the currency's ISO 4217 decimals (JPY 0, USD 2, BHD 3)."""
    return Decimal(amount).quantize(Decimal(1).scaleb(-minor_units(currency)))


def money_text(amount: Decimal, currency: str) -> str:
    """Plain decimal text for XML/JSON: ``1500.00`` USD, ``1500`` JPY, ``1.250`` BHD."""
    return format(quantize(amount, currency), "f")


@dataclass
class Person:
    """goAML ``t_person`` (subset): the names and identifiers a filing needs."""

    first_name: str
    last_name: str
    title: str = ""
    id_number: str = ""  # the partner's customer id for a client, else an id document number
    nationality1: str = ""  # ISO 3166 alpha-2
    residence: str = ""  # ISO 3166 alpha-2
    email: str = ""
    occupation: str = ""
    comments: str = ""

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.title, self.first_name, self.last_name) if part)


@dataclass
class Entity:
    """goAML ``t_entity`` (subset): a company or other legal person."""

    name: str
    incorporation_number: str = ""
    incorporation_country_code: str = ""
    comments: str = ""


@dataclass
class Party:
    """A person or entity involved in the report: the subject customer or a counterparty."""

    reference: str  # customer external id, or a stable counterparty key
    kind: PartyKind
    name: str
    role: Literal["subject", "counterparty"] = "counterparty"
    is_my_client: bool = False  # a customer of the reporting entity
    country: str = ""
    person: Person | None = None
    entity: Entity | None = None
    account_numbers: list[str] = field(default_factory=list)
    transaction_count: int = 0
    comments: str = ""


@dataclass
class Account:
    """goAML ``t_account`` (subset). ``swift`` and ``institution_code`` are a goAML choice:
    the BIC when the bank has one, otherwise a national bank code."""

    account: str  # the account number / the partner's account id
    institution_name: str = ""
    swift: str = ""
    institution_code: str = ""
    currency_code: str = ""
    account_name: str = ""
    client_number: str = ""  # the holder's customer id at the institution
    is_my_client: bool = False
    holder_reference: str = ""  # Party.reference of the holder
    comments: str = ""


@dataclass
class TransactionSide:
    """``t_from``/``t_from_my_client`` or ``t_to``/``t_to_my_client``: exactly one of account,
    person, entity (a goAML choice), the funds code and the country."""

    funds_code: str
    my_client: bool = False
    account: Account | None = None
    person: Person | None = None
    entity: Entity | None = None
    country: str = ""
    party_reference: str = ""  # Party.reference, to draw the from/to name in the PDF
    funds_comment: str = ""


@dataclass
class ForeignCurrency:
    """goAML ``t_foreign_currency``: the amount in the currency it moved in."""

    foreign_currency_code: str
    foreign_amount: Decimal
    foreign_exchange_rate: Decimal


@dataclass
class ReportTransaction:
    """goAML ``transaction`` (subset)."""

    transactionnumber: str  # the partner's transaction id
    internal_ref_number: str  # Sentinel's id
    date_transaction: datetime
    transmode_code: str
    amount: Decimal  # as it moved, in ``currency``
    currency: str
    t_from: TransactionSide
    t_to: TransactionSide
    amount_local: Decimal | None = None  # in the report's currency_code_local; None: rate unknown
    exchange_rate: Decimal | None = None  # local units per unit of ``currency``
    exchange_rate_date: date | None = None  # the day the rate was published
    exchange_rate_source: str = ""  # who published it: "ecb", "manual" (transactions.choices)
    transaction_location: str = ""
    transaction_description: str = ""
    comments: str = ""

    def exchange_rate_note(self, local: str) -> str:
        """'Converted at 0.921658986175 EUR per USD (ecb, 2026-11-20)', or ''."""
        if self.exchange_rate is None:
            return ""
        published = ", ".join(
            part
            for part in (
                self.exchange_rate_source,
                self.exchange_rate_date.isoformat() if self.exchange_rate_date else "",
            )
            if part
        )
        rate = f"{format(self.exchange_rate, 'f')} {local} per {self.currency}"
        return f"Converted at {rate}" + (f" ({published})" if published else "")

    @property
    def foreign_currency(self) -> ForeignCurrency | None:
        if self.exchange_rate is None:
            return None
        return ForeignCurrency(self.currency, self.amount, self.exchange_rate)


@dataclass
class ReportingEntity:
    """The institution that files (the partner bank) and who files for it.

    ``rentity_id`` is the id the FIU's goAML gave the institution. ``funds_codes``,
    ``transmode_codes`` and ``indicator_codes`` map Sentinel's values to the FIU's lookup codes;
    a value without a mapping is written as Sentinel's own code.
    """

    rentity_id: int | None
    name: str
    reporting_person: Person
    rentity_branch: str = ""
    swift: str = ""
    institution_code: str = ""
    country: str = ""
    address: str = ""
    city: str = ""
    funds_codes: dict[str, str] = field(default_factory=dict)
    transmode_codes: dict[str, str] = field(default_factory=dict)
    indicator_codes: dict[str, str] = field(default_factory=dict)


@dataclass
class Indicator:
    code: str  # the code written to the report (the FIU's when mapped)
    label: str = ""
    typology: str = ""  # Sentinel's typology value


@dataclass
class SarDocument:
    reporting_entity: ReportingEntity
    report_code: str
    entity_reference: str  # the reporting entity's own reference: the case reference
    submission_date: datetime
    currency_code_local: str
    reason: str  # the investigator's narrative: why the activity is suspicious
    action: str = ""  # what the reporting entity did (account frozen, relationship exited ...)
    submission_code: str = "E"
    fiu_ref_number: str = ""
    indicators: list[Indicator] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)  # the subject's accounts
    transactions: list[ReportTransaction] = field(default_factory=list)
    title: str = ""

    # --- derived views ---------------------------------------------------------------------------

    @property
    def subject(self) -> Party | None:
        return next((party for party in self.parties if party.role == "subject"), None)

    @property
    def counterparties(self) -> list[Party]:
        return [party for party in self.parties if party.role != "subject"]

    @property
    def period(self) -> tuple[datetime, datetime] | None:
        if not self.transactions:
            return None
        dates = [tx.date_transaction for tx in self.transactions]
        return min(dates), max(dates)

    def totals_by_currency(self) -> dict[str, tuple[int, Decimal]]:
        """Currency → (count, sum) of the transactions as they moved, sorted by currency."""
        totals: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
        for tx in self.transactions:
            totals[tx.currency][0] += 1
            totals[tx.currency][1] += tx.amount
        return {
            currency: (count, quantize(total, currency))
            for currency, (count, total) in sorted(totals.items())
        }

    def exchange_rates_used(self) -> list[dict[str, Any]]:
        """Each distinct rate the local amounts were converted with: currency, rate, date,
        source and how many transactions used it, by currency then date."""
        used: dict[tuple, int] = defaultdict(int)
        for tx in self.transactions:
            if tx.exchange_rate is not None:
                key = (
                    tx.currency,
                    tx.exchange_rate,
                    tx.exchange_rate_date,
                    tx.exchange_rate_source,
                )
                used[key] += 1
        return [
            {"currency": currency, "rate": rate, "date": day, "source": source, "count": count}
            for (currency, rate, day, source), count in sorted(
                used.items(), key=lambda item: (item[0][0], item[0][2] or date.min)
            )
        ]

    def total_local(self) -> Decimal | None:
        """Sum of amount_local; None without transactions or while any transaction lacks it."""
        if not self.transactions or any(tx.amount_local is None for tx in self.transactions):
            return None
        total = sum((tx.amount_local for tx in self.transactions), Decimal(0))
        return quantize(total, self.currency_code_local)

    def party(self, reference: str) -> Party | None:
        return next((party for party in self.parties if party.reference == reference), None)

    # --- the editable draft ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole document (Decimal and datetime as strings): the
        editable draft to keep with the case. ``SarDocument.from_dict`` reads it back."""
        return _plain(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SarDocument:
        return _build(cls, data)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# Which dataclass or scalar each field holds, for from_dict.
_NESTED: dict[str, Any] = {
    "reporting_entity": ReportingEntity,
    "reporting_person": Person,
    "person": Person,
    "entity": Entity,
    "account": Account,
    "t_from": TransactionSide,
    "t_to": TransactionSide,
}
_LISTS: dict[str, Any] = {
    "indicators": Indicator,
    "parties": Party,
    "accounts": Account,
    "transactions": ReportTransaction,
}
_DECIMALS = {"amount", "amount_local", "exchange_rate"}
_DATETIMES = {"submission_date", "date_transaction"}
_DATES = {"exchange_rate_date"}


def _build(cls: type, data: dict[str, Any]) -> Any:
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} expects an object, got {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            values[name] = None
        elif name in _LISTS:
            values[name] = [_build(_LISTS[name], item) for item in value]
        elif name in _NESTED and isinstance(value, dict):
            values[name] = _build(_NESTED[name], value)
        elif name in _DECIMALS:
            values[name] = Decimal(str(value))
        elif name in _DATETIMES:
            values[name] = datetime.fromisoformat(value) if isinstance(value, str) else value
        elif name in _DATES:
            values[name] = date.fromisoformat(value) if isinstance(value, str) else value
        else:
            values[name] = value
    return cls(**values)
