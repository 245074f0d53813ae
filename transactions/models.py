"""Partner banks, their API keys, the parties they send us, and the transactions themselves."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Lower
from django.db.models.lookups import LessThanOrEqual

from sentinel.history import AppendOnlyModel
from sentinel.ids import uuid7

from .choices import (
    OUTCOME_POLARITY,
    Channel,
    Direction,
    LabelOutcome,
    LabelSource,
    RateSource,
    RiskRating,
    TransactionStatus,
    TransactionType,
)
from .money import CURRENCIES


def validate_network(value: str) -> None:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise ValidationError(f"{value!r} is not an IP address or CIDR network.") from exc


DEFAULT_REPORTING_CURRENCY = "USD"


# Rates may name withdrawn currencies (the ECB's history has CYP, SIT ...): shape only.
currency_code_shape = RegexValidator(
    r"^[A-Z]{3}$", "Give a three-letter ISO 4217 code in capitals, such as USD."
)


def validate_currency(value: str) -> None:
    if value not in CURRENCIES:
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code.")


class PartnerBank(models.Model):
    """A bank or fintech that streams its transactions to us."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=64, unique=True)
    is_active = models.BooleanField(
        default=True, help_text="Inactive partners are refused on every signed request."
    )
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Requests per minute across all its keys; empty means the system default.",
    )
    reporting_currency = models.CharField(
        max_length=3,
        default=DEFAULT_REPORTING_CURRENCY,
        validators=[validate_currency],
        help_text="ISO 4217 code: rules' amount_base and its SARs' local amounts are in it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="partner_name_unique_ignoring_case",
                violation_error_message="A partner bank with this name already exists.",
            ),
            models.CheckConstraint(
                condition=Q(reporting_currency__regex=r"^[A-Z]{3}$"),
                name="partner_reporting_currency_iso",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_rate_limit(self) -> int:
        return self.rate_limit_per_minute or settings.SENTINEL_DEFAULT_RATE_LIMIT_PER_MINUTE


class ApiKeyQuerySet(models.QuerySet):
    def live(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A signing key of a partner. The secret is stored encrypted and shown once, at creation."""

    partner = models.ForeignKey(PartnerBank, on_delete=models.CASCADE, related_name="api_keys")
    key_id = models.CharField(max_length=40, unique=True, editable=False)
    encrypted_secret = models.TextField(editable=False)
    label = models.CharField(max_length=100, blank=True)
    allowed_networks = ArrayField(
        models.CharField(max_length=49, validators=[validate_network]),
        default=list,
        blank=True,
        help_text="Optional IP allow-list (addresses or CIDR networks). Empty allows any address.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.key_id

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None

    def allows_address(self, address: str | None) -> bool:
        if not self.allowed_networks:
            return True
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.allowed_networks)


class Customer(models.Model):
    """A partner's customer, known by the partner's own id; created from transactions."""

    partner = models.ForeignKey(PartnerBank, on_delete=models.PROTECT, related_name="customers")
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["partner", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"], name="customer_unique_per_partner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.external_id} ({self.partner.slug})"


class Account(models.Model):
    """An account of a partner's customer, known by the partner's own id."""

    partner = models.ForeignKey(PartnerBank, on_delete=models.PROTECT, related_name="accounts")
    external_id = models.CharField(max_length=64)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"], name="account_unique_per_partner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.partner.slug})"


class AccountProfile(models.Model):
    """What an account usually does, kept by the profiling task; rating and limits set by staff.

    ``activity`` maps "direction:type:currency" to {"count", "sum", "min", "max"} over approved
    transactions (amounts as decimal strings);
    ``status_counts`` counts every status; ``countries`` and ``devices`` count how often each
    counterparty country and device was seen (the most frequent are kept);
    ``counterparty_count`` is how many distinct counterparties the account has ever dealt
    with (``AccountCounterparty`` holds them: an account that suddenly deals with many is one
    that moves money for others).
    """

    # What the profiling task folds transactions into, and what staff set.
    FOLDED_FIELDS = (
        "first_seen_at",
        "last_seen_at",
        "transaction_count",
        "counterparty_count",
        "activity",
        "status_counts",
        "countries",
        "devices",
    )
    STAFF_FIELDS = ("risk_rating", "single_transaction_limit", "daily_limit", "limit_currency")

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    transaction_count = models.PositiveBigIntegerField(default=0)
    counterparty_count = models.PositiveBigIntegerField(default=0)
    activity = models.JSONField(default=dict)
    status_counts = models.JSONField(default=dict)
    countries = models.JSONField(default=dict)
    devices = models.JSONField(default=dict)
    risk_rating = models.CharField(
        max_length=10, choices=RiskRating.choices, default=RiskRating.LOW
    )
    single_transaction_limit = models.DecimalField(
        max_digits=17, decimal_places=4, null=True, blank=True
    )
    daily_limit = models.DecimalField(max_digits=17, decimal_places=4, null=True, blank=True)
    limit_currency = models.CharField(max_length=3, blank=True)
    # A staff change that weakens detection (a lower rating, a higher or removed limit) waits
    # here for a second person's approval: {"before": {...}, "after": {...}} of STAFF_FIELDS.
    pending_change = models.JSONField(null=True, blank=True)
    pending_change_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pending_change_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [
            (
                "approve_profile_change",
                "Approve profile changes that weaken detection (lower risk, higher limits)",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(risk_rating__in=RiskRating.values), name="profile_risk_rating_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    pending_change__isnull=True,
                    pending_change_by__isnull=True,
                    pending_change_at__isnull=True,
                )
                | Q(
                    pending_change__isnull=False,
                    pending_change_by__isnull=False,
                    pending_change_at__isnull=False,
                ),
                name="profile_pending_change_complete",
            ),
            models.CheckConstraint(
                condition=(Q(single_transaction_limit__isnull=True) & Q(daily_limit__isnull=True))
                | ~Q(limit_currency=""),
                name="profile_limits_have_currency",
            ),
            models.CheckConstraint(
                condition=Q(single_transaction_limit__isnull=True)
                | Q(single_transaction_limit__gt=0),
                name="profile_single_limit_positive",
            ),
            models.CheckConstraint(
                condition=Q(daily_limit__isnull=True) | Q(daily_limit__gt=0),
                name="profile_daily_limit_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.account}"


class AccountCounterparty(models.Model):
    """A counterparty an account has dealt with, either way, since it was first seen: what
    the profile's ``counterparty_count`` counts, exactly and for the account's whole life
    (the rolling aggregates in Redis see 35 days).

    ``counterparty`` is the counterparty's account id, else ``name:`` and its name as parties
    are told apart (``selectors.party_name_key``). Written only by the profile fold, under
    the profile's lock.
    """

    NAME_MARK = "name:"

    # The unique constraint's index leads with the account: no index of its own.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    counterparty = models.CharField(max_length=210)
    first_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "counterparty"], name="account_counterparty_unique"
            ),
            models.CheckConstraint(
                condition=~Q(counterparty=""), name="account_counterparty_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.counterparty} (counterparty of account {self.account_id})"


class TransactionQuerySet(models.QuerySet):
    def involving_account(self, account_id: str) -> TransactionQuerySet:
        return self.filter(
            Q(originator_account_id=account_id) | Q(beneficiary_account_id=account_id)
        )

    def unprofiled(self) -> TransactionQuerySet:
        return self.filter(profiled_at__isnull=True)


def customer_side(direction: str) -> str:
    """'originator' or 'beneficiary': the party of a transaction in this direction who is the
    partner's own customer (also for rows not yet built into a Transaction)."""
    return "originator" if direction == Direction.OUTBOUND else "beneficiary"


class Transaction(models.Model):
    """A transaction as a partner sent it; never edited after it is stored."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No index of its own: every index below starts with partner_id, and each index more is
    # one more insert per accepted transaction and per profiling update.
    partner = models.ForeignKey(
        PartnerBank, on_delete=models.PROTECT, related_name="transactions", db_index=False
    )
    external_id = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    amount = models.DecimalField(max_digits=17, decimal_places=4)
    currency = models.CharField(max_length=3)
    type = models.CharField(max_length=20, choices=TransactionType.choices)
    status = models.CharField(max_length=10, choices=TransactionStatus.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)

    originator_account_id = models.CharField(max_length=64, blank=True)
    originator_customer_id = models.CharField(max_length=64, blank=True)
    originator_name = models.CharField(max_length=200, blank=True)
    originator_country = models.CharField(max_length=2, blank=True)
    originator_bank = models.CharField(max_length=64, blank=True)
    beneficiary_account_id = models.CharField(max_length=64, blank=True)
    beneficiary_customer_id = models.CharField(max_length=64, blank=True)
    beneficiary_name = models.CharField(max_length=200, blank=True)
    beneficiary_country = models.CharField(max_length=2, blank=True)
    beneficiary_bank = models.CharField(max_length=64, blank=True)

    device_id = models.CharField(max_length=128, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    product = models.CharField(max_length=64, blank=True)
    acquirer = models.CharField(max_length=64, blank=True)
    card_type = models.CharField(max_length=64, blank=True)
    mcc = models.CharField(max_length=4, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    payload_hash = models.CharField(
        max_length=64,
        help_text="SHA-256 of the normalised payload, to tell replays from conflicts.",
    )
    profiled_at = models.DateTimeField(null=True, blank=True)

    objects = TransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"], name="transaction_external_id_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="transaction_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount__lt=10**13), name="transaction_amount_below_limit"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="transaction_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(type__in=TransactionType.values), name="transaction_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=TransactionStatus.values), name="transaction_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="transaction_direction_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel="") | Q(channel__in=Channel.values),
                name="transaction_channel_valid",
            ),
            models.CheckConstraint(
                condition=(Q(direction=Direction.OUTBOUND) & ~Q(originator_account_id=""))
                | (Q(direction=Direction.INBOUND) & ~Q(beneficiary_account_id="")),
                name="transaction_customer_side_has_account",
            ),
        ]
        indexes = [
            models.Index(
                fields=["partner", "originator_account_id", "occurred_at"],
                name="tx_partner_originator_time",
            ),
            models.Index(
                fields=["partner", "beneficiary_account_id", "occurred_at"],
                name="tx_partner_beneficiary_time",
            ),
            # The list's keyset, (occurred_at, id) newest first, is one range of this index
            # however many transactions share a second (sentinel/api/pagination.py).
            models.Index(fields=["partner", "occurred_at", "id"], name="tx_partner_time_id"),
            models.Index(
                fields=["received_at"],
                name="tx_unprofiled",
                condition=Q(profiled_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.amount} {self.currency}"

    @property
    def customer_side(self) -> str:
        """'originator' or 'beneficiary': the party who is the partner's own customer."""
        return customer_side(self.direction)

    @property
    def counterparty_side(self) -> str:
        return "beneficiary" if self.direction == Direction.OUTBOUND else "originator"

    def party(self, side: str) -> dict[str, str]:
        return {
            field: getattr(self, f"{side}_{field}")
            for field in ("account_id", "customer_id", "name", "country", "bank")
        }

    @property
    def account_external_id(self) -> str:
        return getattr(self, f"{self.customer_side}_account_id")


MAX_LABEL_REASON = 20_000
# Exchange rates: ECB rates have at most 4 decimals and 6 digits; staff may be more precise.
RATE_MAX_DIGITS = 20
RATE_DECIMAL_PLACES = 10


class LabelFields(models.Model):
    """What a label says, shared by the current label and its history."""

    source = models.CharField(max_length=20, choices=LabelSource.choices)
    outcome = models.CharField(max_length=20, choices=LabelOutcome.choices)
    weight = models.DecimalField(
        max_digits=3, decimal_places=2, help_text="How far the label is trusted, 0 to 1."
    )
    occurred_at = models.DateTimeField(help_text="When the outcome happened, as its source says.")
    reason = models.TextField(blank=True, max_length=MAX_LABEL_REASON)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The staff member who set it; empty for a partner's feedback.",
    )
    reference = models.CharField(
        max_length=100, help_text="What set it: 'key <key_id>', 'case #12', 'alert #34'."
    )

    class Meta:
        abstract = True

    @property
    def polarity(self) -> int | None:
        """1 bad, 0 good, None no label (``unknown``)."""
        return OUTCOME_POLARITY[self.outcome]


def _label_constraints(prefix: str) -> list:
    return [
        models.CheckConstraint(
            condition=Q(source__in=LabelSource.values), name=f"{prefix}_source_valid"
        ),
        models.CheckConstraint(
            condition=Q(outcome__in=LabelOutcome.values), name=f"{prefix}_outcome_valid"
        ),
        models.CheckConstraint(
            condition=Q(weight__gte=0, weight__lte=1), name=f"{prefix}_weight_0_to_1"
        ),
        models.CheckConstraint(
            condition=LessThanOrEqual(Length("reason"), MAX_LABEL_REASON),
            name=f"{prefix}_reason_length",
        ),
        models.CheckConstraint(
            condition=~Q(source=LabelSource.PARTNER_FEEDBACK) | Q(actor__isnull=True),
            name=f"{prefix}_partner_has_no_actor",
        ),
    ]


class TransactionLabel(LabelFields):
    """The current label of a transaction from one source: a later one replaces it (the
    previous ones stay in ``TransactionLabelEvent``). What the learned score trains on."""

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="labels")
    received_at = models.DateTimeField(help_text="When we recorded this label.")

    class Meta:
        ordering = ["transaction", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "source"], name="transaction_label_one_per_source"
            ),
            *_label_constraints("transaction_label"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} ({self.source}) on {self.transaction_id}"


class TransactionLabelEvent(LabelFields, AppendOnlyModel):
    """Every label ever recorded, oldest first; never edited or deleted (sentinel.history)."""

    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="label_events"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["transaction", "received_at", "id"]
        constraints = _label_constraints("transaction_label_event")

    def __str__(self) -> str:
        return f"{self.outcome} ({self.source}) on {self.transaction_id} at {self.received_at}"


class ExchangeRate(models.Model):
    """What one unit of ``base`` was worth in ``quote`` on ``date``, as ``source`` published
    it (the ECB: one euro in US dollars, yen ...). How conversions choose among rates is
    transactions.selectors § Exchange rates; changes are in the audit trail."""

    date = models.DateField()
    base = models.CharField(
        max_length=3, validators=[currency_code_shape], help_text="ISO 4217 code, e.g. EUR."
    )
    quote = models.CharField(
        max_length=3, validators=[currency_code_shape], help_text="ISO 4217 code, e.g. USD."
    )
    rate = models.DecimalField(
        max_digits=RATE_MAX_DIGITS,
        decimal_places=RATE_DECIMAL_PLACES,
        help_text="Units of the quote currency for one unit of the base currency.",
    )
    source = models.CharField(max_length=10, choices=RateSource.choices, default=RateSource.MANUAL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "base", "quote", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "base", "quote", "source"],
                name="exchange_rate_unique_per_day_and_source",
                violation_error_message="This source already has a rate for this pair that day.",
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
            models.CheckConstraint(
                condition=Q(base__regex=r"^[A-Z]{3}$") & Q(quote__regex=r"^[A-Z]{3}$"),
                name="exchange_rate_currencies_iso",
            ),
            models.CheckConstraint(
                condition=~Q(base=models.F("quote")), name="exchange_rate_two_currencies"
            ),
            models.CheckConstraint(
                condition=Q(source__in=RateSource.values), name="exchange_rate_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.base} = {self.rate} {self.quote} on {self.date} ({self.source})"
