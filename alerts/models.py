"""Alerts: de-duplicated live rule hits on one subject, and their append-only history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from rules.choices import SEVERITY_RANK, Severity
from rules.models import Rule, RuleHit, RuleVersion
from sentinel.history import AppendOnlyModel
from sentinel.outbound import check_webhook_url
from transactions.choices import RiskRating
from transactions.models import PartnerBank, Transaction

from .choices import OPEN_STATUSES, AlertEventType, AlertStatus, DeliveryState, MemberRole

MAX_DISMISS_REASON = 2000

# Severity grows with the pattern: one level up at each of these occurrence counts.
SEVERITY_STEPS = (5, 20)
_SEVERITY_BY_RANK = {rank: severity for severity, rank in SEVERITY_RANK.items()}

_PRIORITY_SEVERITY = 250
_PRIORITY_AMOUNT_STEP = 25
_PRIORITY_AMOUNT_MAX = 250
_PRIORITY_RISK = {RiskRating.LOW: 0, RiskRating.MEDIUM: 100, RiskRating.HIGH: 250}


def escalated_severity(base: str, occurrences: int) -> str:
    """The rule's severity raised one level at 5 and again at 20 occurrences, capped at critical."""
    steps = sum(occurrences >= step for step in SEVERITY_STEPS)
    rank = min(SEVERITY_RANK[Severity(base)] + steps, SEVERITY_RANK[Severity.CRITICAL])
    return str(_SEVERITY_BY_RANK[rank])


def alert_priority(*, severity: str, rule_score: int, amount: Decimal, risk_rating: str) -> int:
    """See ``Alert``: 250..1750, higher first."""
    magnitude = max(0, amount.adjusted()) if amount > 0 else 0  # floor(log10(amount))
    return (
        _PRIORITY_SEVERITY * SEVERITY_RANK[Severity(severity)]
        + min(rule_score, 1000) // 4
        + min(_PRIORITY_AMOUNT_MAX, _PRIORITY_AMOUNT_STEP * magnitude)
        + _PRIORITY_RISK.get(risk_rating, 0)
    )


class AlertQuerySet(models.QuerySet):
    def open(self) -> AlertQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Alert(models.Model):
    """Live hits of one rule on one subject (the customer-side account of the transactions).

    Repeated hits update the open alert instead of creating another (see
    ``alerts.services.alerts_from_hits`` for the suppression window).

    - ``severity``: the rule version's severity, one level up at 5 and again at 20 occurrences,
      capped at critical; it never goes down.
    - ``currency`` is the first transaction's; ``amount_involved`` sums the linked transactions
      in that currency only (others are linked and counted, not added: no FX rates here).
    - ``triaged_at`` is set once, when the alert first leaves ``new`` (the reports' time to
      triage, docs/reports.md); the history holds the same moment, this column keeps the
      reports off the history table.
    - ``priority`` (250..1750, queues sort by it, highest first) =
      250 x severity rank (low 1 .. critical 4)
      + rule score // 4 (score 0..1000, so 0..250)
      + 25 x floor(log10(amount_involved)), 0..250 (25 per order of magnitude, 10^10 and up = 250)
      + account risk rating (AccountProfile.risk_rating): low 0, medium 100, high 250.
    """

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="alerts")
    rule_version = models.ForeignKey(
        RuleVersion,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version of the most recent hit.",
    )
    partner = models.ForeignKey(PartnerBank, on_delete=models.PROTECT, related_name="alerts")
    account_external_id = models.CharField(max_length=64, help_text="The customer-side account.")
    customer_external_id = models.CharField(max_length=64, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=15, choices=AlertStatus.choices, default=AlertStatus.NEW)
    occurrences = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField(help_text="Event time of the earliest hit.")
    last_seen_at = models.DateTimeField(help_text="Event time of the latest hit.")
    currency = models.CharField(max_length=3)
    amount_involved = models.DecimalField(max_digits=19, decimal_places=4, default=Decimal(0))
    priority = models.PositiveIntegerField(default=0)
    dismiss_reason = models.TextField(blank=True, max_length=MAX_DISMISS_REASON)
    triaged_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it first left 'new': acknowledged, dismissed or taken into a case.",
    )
    # Who works the case the alert is in (None: in no case, or in an unassigned one). Kept by
    # PostgreSQL triggers that the cases app installs (cases migration 0008), never written
    # here: the queue filters and counts on it without joining every alert to its case.
    case_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Kept by PostgreSQL from ``severity``, so the queue can sort by severity on an index.
    severity_rank = models.GeneratedField(
        expression=Case(
            *(
                When(severity=severity, then=Value(rank))
                for severity, rank in SEVERITY_RANK.items()
            ),
            default=Value(0),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-priority", "-last_seen_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AlertStatus.values), name="alert_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="alert_severity_valid"
            ),
            models.CheckConstraint(condition=Q(occurrences__gte=1), name="alert_occurs"),
            models.CheckConstraint(
                condition=Q(last_seen_at__gte=F("first_seen_at")), name="alert_seen_ordered"
            ),
            models.CheckConstraint(
                condition=Q(amount_involved__gte=0), name="alert_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status=AlertStatus.DISMISSED) | ~Q(dismiss_reason=""),
                name="alert_dismissal_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=AlertStatus.NEW) | Q(triaged_at__isnull=True),
                name="alert_new_is_untriaged",
            ),
            models.UniqueConstraint(
                fields=["rule", "partner", "account_external_id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="alert_one_open_per_rule_and_subject",
            ),
        ]
        indexes = [
            models.Index(
                fields=["rule", "partner", "account_external_id", "-last_seen_at"],
                name="alert_subject_recent",
            ),
            # With the id, the list's keyset is one range of it however many alerts tie.
            models.Index(fields=["-priority", "-last_seen_at", "-id"], name="alert_queue_id"),
            models.Index(fields=["partner", "account_external_id"], name="alert_subject"),
            models.Index(
                fields=["-severity_rank", "-priority", "-id"], name="alert_queue_severity"
            ),
            # The queue filtered on one rule or one partner, in its default order.
            models.Index(
                fields=["rule", "-priority", "-last_seen_at", "-id"], name="alert_rule_queue"
            ),
            models.Index(
                fields=["partner", "-priority", "-last_seen_at", "-id"], name="alert_partner_queue"
            ),
            models.Index(
                fields=["case_assignee", "-priority", "-last_seen_at", "-id"],
                name="alert_assignee_queue",
            ),
            # The reports read the alerts raised in a period (sentinel.reports) from this index
            # alone (an index-only scan, the table's wide rows unread).
            models.Index(
                fields=["created_at"],
                include=[
                    "id",
                    "partner",
                    "rule",
                    "rule_version",
                    "severity",
                    "status",
                    "triaged_at",
                ],
                name="alert_report",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.rule_id} on {self.account_external_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def hit_links(self) -> list[AlertTransaction]:
        """The links a rule hit fed (not the transfers of a ring), from the loaded links."""
        return [link for link in self.links.all() if link.hit_id is not None]

    def reassess(self, *, rule_severity: str, rule_score: int, risk_rating: str) -> None:
        """After an occurrence or an amount changed: the severity raised for the occurrences
        (never lowered), and the priority that follows from it (in memory; the caller saves)."""
        self.severity = max(
            self.severity,
            escalated_severity(rule_severity, self.occurrences),
            key=lambda severity: SEVERITY_RANK[Severity(severity)],
        )
        self.priority = alert_priority(
            severity=self.severity,
            rule_score=rule_score,
            amount=self.amount_involved,
            risk_rating=risk_rating,
        )


class AlertTransaction(models.Model):
    """A transaction of an alert: one whose live hit fed it (one hit feeds at most one alert),
    or, with no hit, one of the transfers forming the ring the alert was raised on
    (``AlertMember``). A ring's transfer is never a suppressed occurrence: suppression is what
    a hit on a closed alert's subject within its window is."""

    # Indexed by alert_link_latest, which also serves lookups by alert.
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="links", db_index=False)
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="+")
    hit = models.OneToOneField(
        RuleHit,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_link",
        help_text="Empty for a transfer of the alert's ring.",
    )
    suppressed = models.BooleanField(
        default=False, help_text="Attached to a closed alert inside its window: raised nothing."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["alert", "id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "transaction"], name="alert_transaction_once"),
            models.CheckConstraint(
                condition=Q(hit__isnull=False) | Q(suppressed=False),
                name="alert_link_ring_not_suppressed",
            ),
        ]
        # An alert's latest links (alerts_with_latest_links) without reading the others.
        indexes = [models.Index(fields=["alert", "-id"], name="alert_link_latest")]

    def __str__(self) -> str:
        return f"{self.transaction_id} in alert #{self.alert_id}"

    @property
    def is_ring_transfer(self) -> bool:
        return self.hit_id is None


class AlertMember(models.Model):
    """An account of the ring an alert was raised on (a network detection names every member,
    not only the hub the alert is about), with its role in the ring. The alert's partner is the
    member's: rings never cross partners."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="members")
    account_external_id = models.CharField(max_length=64)
    role = models.CharField(max_length=15, choices=MemberRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["alert", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=MemberRole.values), name="alert_member_role_valid"
            ),
            models.CheckConstraint(
                condition=~Q(account_external_id=""), name="alert_member_account_set"
            ),
            models.UniqueConstraint(
                fields=["alert", "account_external_id"], name="alert_member_once"
            ),
            models.UniqueConstraint(
                fields=["alert"], condition=Q(role=MemberRole.HUB), name="alert_member_one_hub"
            ),
        ]
        # The account page's "rings it is a member of".
        indexes = [
            models.Index(fields=["account_external_id", "alert"], name="alert_member_account")
        ]

    def __str__(self) -> str:
        return f"{self.account_external_id} ({self.role}) in alert #{self.alert_id}"


class AlertEvent(AppendOnlyModel):
    """One change of an alert, by a person or (actor empty) by the system. Never edited or
    deleted (sentinel.history); an alert with history cannot be deleted either."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    type = models.CharField(max_length=20, choices=AlertEventType.choices)
    parameters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["alert", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=AlertEventType.values), name="alert_event_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} on alert #{self.alert_id}"


MAX_SNOOZE_DAYS = 180
# A longer snooze switches a rule off for a subject long enough to matter: it takes effect only
# once a second person (senior investigator or compliance officer) approves it.
SNOOZE_WITHOUT_APPROVAL_DAYS = 30
MAX_SNOOZE_COMMENT = 2000


class SnoozeQuerySet(models.QuerySet):
    def active(self, at=None) -> SnoozeQuerySet:
        """Snoozes in force at ``at`` (now by default): started, not ended, not lifted, and
        approved when they needed to be."""
        at = at or timezone.now()
        return self.filter(created_at__lte=at, ends_at__gt=at, lifted_at__isnull=True).filter(
            Q(approved_at__isnull=False) | ~_NEEDS_APPROVAL
        )

    def awaiting_approval(self, at=None) -> SnoozeQuerySet:
        """Long snoozes no one has approved yet (and that could still take effect)."""
        at = at or timezone.now()
        return self.filter(
            _NEEDS_APPROVAL, approved_at__isnull=True, lifted_at__isnull=True, ends_at__gt=at
        )


_NEEDS_APPROVAL = Q(ends_at__gt=F("created_at") + timedelta(days=SNOOZE_WITHOUT_APPROVAL_DAYS))


class Snooze(models.Model):
    """One rule silenced for one subject for a bounded time, e.g. a known monthly payroll.

    While it is in force the rule's live hits on the subject are still stored (and linked here
    through ``SnoozedHit``) but raise no alert. Never deleted: lifting early records who and why.
    """

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="snoozes")
    partner = models.ForeignKey(PartnerBank, on_delete=models.PROTECT, related_name="snoozes")
    account_external_id = models.CharField(max_length=64, help_text="The customer-side account.")
    comment = models.TextField(max_length=MAX_SNOOZE_COMMENT, help_text="Why it is safe.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_comment = models.TextField(blank=True, max_length=MAX_SNOOZE_COMMENT)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = SnoozeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(comment=""), name="snooze_has_comment"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("created_at"))
                & Q(ends_at__lte=F("created_at") + timedelta(days=MAX_SNOOZE_DAYS)),
                name="snooze_bounded",
            ),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True, lifted_by__isnull=True)
                | Q(lifted_at__isnull=False, lifted_by__isnull=False),
                name="snooze_lifted_by_someone",
            ),
            # Only a long snooze is approved, and never by the person who asked for it.
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True, approved_by__isnull=True)
                | (
                    Q(approved_at__isnull=False, approved_by__isnull=False)
                    & ~Q(approved_by=F("created_by"))
                    & _NEEDS_APPROVAL
                ),
                name="snooze_approved_by_another",
            ),
        ]
        permissions = [("approve_snooze", "Approve snoozes longer than 30 days")]
        indexes = [
            models.Index(
                fields=["rule", "partner", "account_external_id", "-ends_at"],
                name="snooze_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.account_external_id} until {self.ends_at:%Y-%m-%d %H:%M}"

    @property
    def needs_approval(self) -> bool:
        return self.ends_at > self.created_at + timedelta(days=SNOOZE_WITHOUT_APPROVAL_DAYS)

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        approved = self.approved_at is not None or not self.needs_approval
        return approved and self.lifted_at is None and self.created_at <= now < self.ends_at

    @property
    def is_awaiting_approval(self) -> bool:
        return (
            self.needs_approval
            and self.approved_at is None
            and self.lifted_at is None
            and timezone.now() < self.ends_at
        )

    @property
    def state(self) -> str:
        """in_force, awaiting_approval, lifted or over."""
        if self.lifted_at is not None:
            return "lifted"
        if self.is_active:
            return "in_force"
        return "awaiting_approval" if self.is_awaiting_approval else "over"


class SnoozedHit(models.Model):
    """A live hit that raised no alert because its rule was snoozed for the subject."""

    snooze = models.ForeignKey(Snooze, on_delete=models.CASCADE, related_name="hits")
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="+")
    hit = models.OneToOneField(RuleHit, on_delete=models.CASCADE, related_name="snoozed_link")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["snooze", "id"]

    def __str__(self) -> str:
        return f"{self.transaction_id} under snooze #{self.snooze_id}"


MAX_VIEW_NAME = 80
MAX_VIEW_QUERY = 2000


class AlertQueueView(models.Model):
    """A person's saved filters of the alert queue: a name for a query string. Private."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_queue_views"
    )
    name = models.CharField(max_length=MAX_VIEW_NAME)
    query = models.CharField(max_length=MAX_VIEW_QUERY, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="alert_queue_view_name_once"),
            models.CheckConstraint(condition=~Q(name=""), name="alert_queue_view_named"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user_id})"


class WebhookEndpoint(models.Model):
    """Where a partner bank wants its review and block decisions POSTed, signed with its key."""

    partner = models.OneToOneField(PartnerBank, on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(max_length=500, help_text="HTTPS in production; POSTed JSON.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["partner"]

    def __str__(self) -> str:
        return f"{self.partner} -> {self.url}"

    def clean(self) -> None:
        # Public addresses only (and https in production), checked again at every send.
        try:
            check_webhook_url(self.url)
        except ValidationError as error:
            raise ValidationError({"url": error.messages}) from None


class WebhookDelivery(models.Model):
    """One decision told to one partner: the exact body, and how the attempts went.

    The body is frozen at creation so a replay sends what was decided then. Attempts back off
    exponentially; after the last one the delivery is dead-lettered and waits for staff to
    replay it. One delivery per transaction and event, whatever the retries.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries"
    )
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=30)
    payload = models.JSONField()
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "transaction", "event"], name="webhook_delivery_once"
            ),
            models.CheckConstraint(
                condition=Q(state__in=DeliveryState.values), name="webhook_delivery_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=DeliveryState.DELIVERED) | Q(delivered_at__isnull=False),
                name="webhook_delivered_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state=DeliveryState.PENDING),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} of {self.transaction_id} ({self.state}, {self.attempts} attempts)"
