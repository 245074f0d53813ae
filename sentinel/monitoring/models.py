"""The operational monitor's tables (docs/monitor.md): per-minute aggregates of each partner's
traffic, how each partner is judged, and operational alerts with their append-only history.

The tables were created by ``transactions`` and moved here by renaming them (migration 0001):
their foreign keys to ``transactions.PartnerBank`` are unchanged.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from sentinel.history import AppendOnlyModel
from sentinel.outbound import check_webhook_url
from transactions.models import PartnerBank

from .choices import (
    ALERT_METRIC_CHOICES,
    BaselineMethod,
    Dimension,
    DriftMetric,
    HealthSeverity,
    Metric,
    OperationalAlertEventType,
    OperationalAlertStatus,
    SlackDeliveryStatus,
)


class MinuteStat(models.Model):
    """One minute of a partner's traffic: its whole traffic (``dimension`` and ``value`` empty)
    or the part of it with one value of a dimension (e.g. acquirer "acq-2").

    Rebuilt from the minute's transactions whenever one arrives for it, so a late arrival
    corrects its own minute (services.aggregation); never edited by people.
    """

    # No index of its own: minutestat_unique starts with it.
    partner = models.ForeignKey(
        PartnerBank, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    minute = models.DateTimeField(help_text="Start of the minute (UTC), by occurred_at.")
    dimension = models.CharField(max_length=16, choices=Dimension.choices, blank=True)
    value = models.CharField(max_length=64, blank=True)
    total = models.PositiveIntegerField()
    approved = models.PositiveIntegerField()
    failed = models.PositiveIntegerField()
    denied = models.PositiveIntegerField()
    reversed = models.PositiveIntegerField()
    latency_count = models.PositiveIntegerField(
        default=0, help_text="Transactions of the minute that reported latency_ms."
    )
    latency_p50_ms = models.FloatField(null=True, blank=True)
    latency_p95_ms = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "minute statistic"
        constraints = [
            # Also the index every read uses: one series, a range of minutes.
            models.UniqueConstraint(
                fields=["partner", "dimension", "value", "minute"], name="minutestat_unique"
            ),
            models.CheckConstraint(
                condition=Q(total=F("approved") + F("failed") + F("denied") + F("reversed")),
                name="minutestat_statuses_add_up",
            ),
            models.CheckConstraint(
                condition=Q(latency_count__lte=F("total")), name="minutestat_latency_count"
            ),
            models.CheckConstraint(
                condition=(Q(dimension="") & Q(value=""))
                | (Q(dimension__in=Dimension.values) & ~Q(value="")),
                name="minutestat_dimension_valid",
            ),
        ]

    def __str__(self) -> str:
        scope = f" {self.dimension}={self.value}" if self.dimension else ""
        return f"{self.partner_id}{scope} {self.minute:%Y-%m-%d %H:%M}: {self.total}"


class MonitorSettings(models.Model):
    """How one partner's traffic is judged; partners without a row get the defaults."""

    partner = models.OneToOneField(
        PartnerBank, on_delete=models.CASCADE, primary_key=True, related_name="monitor_settings"
    )
    baseline_method = models.CharField(
        max_length=12, choices=BaselineMethod.choices, default=BaselineMethod.TRAILING
    )
    baseline_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days of history before the judged minutes that form the baseline."
    )
    sigmas = models.FloatField(default=3.0, help_text="Threshold = mean + sigmas × σ.")
    ewma_alpha = models.FloatField(
        default=0.02, help_text="Weight of the newest minute in the EWMA baseline (0 to 1)."
    )
    min_volume = models.PositiveIntegerField(
        default=20,
        help_text="Minutes with fewer transactions are neither judged nor part of the baseline.",
    )
    min_baseline_minutes = models.PositiveIntegerField(
        default=120, help_text="Below this many usable baseline minutes a metric is not judged."
    )
    info_minutes = models.PositiveSmallIntegerField(default=15)
    warning_minutes = models.PositiveSmallIntegerField(default=30)
    critical_minutes = models.PositiveSmallIntegerField(default=45)
    severe_minutes = models.PositiveSmallIntegerField(default=60)
    is_enabled = models.BooleanField(default=True, help_text="Raise operational alerts.")
    rebaseline_after_hours = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=72,
        help_text=(
            "An alert open this long is accepted as the new normal, logged as an event, and "
            "the baseline restarts at its first minute. Empty: never (only an operator's "
            "accept)."
        ),
    )
    slack_webhook_url = models.URLField(
        max_length=500,
        blank=True,
        help_text=(
            "Slack-compatible incoming webhook for this partner's operational alerts; empty: "
            "the global SENTINEL_MONITOR_SLACK_WEBHOOK_URL, if set."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "monitor settings"
        verbose_name_plural = "monitor settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(baseline_method__in=BaselineMethod.values),
                name="monitorsettings_method_valid",
            ),
            models.CheckConstraint(
                condition=Q(baseline_days__gte=1) & Q(baseline_days__lte=90),
                name="monitorsettings_baseline_days_range",
            ),
            models.CheckConstraint(condition=Q(sigmas__gt=0), name="monitorsettings_sigmas_gt_0"),
            models.CheckConstraint(
                condition=Q(ewma_alpha__gt=0) & Q(ewma_alpha__lte=1),
                name="monitorsettings_alpha_range",
            ),
            models.CheckConstraint(
                condition=Q(info_minutes__gte=1)
                & Q(warning_minutes__gt=F("info_minutes"))
                & Q(critical_minutes__gt=F("warning_minutes"))
                & Q(severe_minutes__gt=F("critical_minutes"))
                & Q(severe_minutes__lte=360),
                name="monitorsettings_severity_steps_rise",
                violation_error_message=(
                    "Persistence minutes must rise: info < warning < critical < severe ≤ 360."
                ),
            ),
            models.CheckConstraint(
                condition=Q(rebaseline_after_hours__isnull=True) | Q(rebaseline_after_hours__gte=2),
                name="monitorsettings_rebaseline_after_2h",
                violation_error_message=(
                    "Re-baselining after fewer than 2 hours would accept ordinary incidents."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Monitor settings of {self.partner}"

    def clean(self) -> None:
        if self.slack_webhook_url:
            try:
                check_webhook_url(self.slack_webhook_url)
            except ValidationError as error:
                raise ValidationError({"slack_webhook_url": error.messages}) from None


class MonitorWatermark(models.Model):
    """How far the aggregation has read new transactions (by id, which is time-ordered)."""

    name = models.CharField(max_length=32, primary_key=True)
    position = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.position:%Y-%m-%d %H:%M:%S}"


class OperationalAlertQuerySet(models.QuerySet):
    def open(self) -> OperationalAlertQuerySet:
        return self.filter(status=OperationalAlertStatus.OPEN)


class OperationalAlert(models.Model):
    """A metric of a partner's traffic that stayed above its threshold: raised when its
    severity first rises above HEALTHY, escalated as it grows, resolved when the metric is back
    below the threshold. Its history is in OperationalAlertEvent.

    The learned risk score's drift (``DriftMetric``) is watched the same way, with no partner:
    the model scores every partner's traffic (services.drift)."""

    partner = models.ForeignKey(
        PartnerBank,
        on_delete=models.PROTECT,
        related_name="operational_alerts",
        null=True,
        blank=True,
        help_text="Empty for the learned risk score's drift, which is no one partner's.",
    )
    metric = models.CharField(max_length=16, choices=ALERT_METRIC_CHOICES)
    status = models.CharField(
        max_length=10,
        choices=OperationalAlertStatus.choices,
        default=OperationalAlertStatus.OPEN,
    )
    severity = models.CharField(max_length=10, choices=HealthSeverity.choices)
    started_minute = models.DateTimeField(help_text="First minute above the threshold.")
    last_minute = models.DateTimeField(help_text="Latest minute judged while open.")
    persistence_minutes = models.PositiveIntegerField()
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    detail = models.JSONField(
        default=dict, blank=True, help_text="The dimension values that stood out, when raised."
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Closed as the new normal: the baseline restarts at started_minute.",
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who accepted it; empty when re-baselined automatically.",
    )

    objects = OperationalAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # NULLS NOT DISTINCT: one open drift alert per metric too (no partner).
            models.UniqueConstraint(
                fields=["partner", "metric"],
                condition=Q(status=OperationalAlertStatus.OPEN),
                name="operationalalert_one_open_per_metric",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=(Q(partner__isnull=False) & Q(metric__in=Metric.values))
                | (Q(partner__isnull=True) & Q(metric__in=DriftMetric.values)),
                name="operationalalert_metric_valid",
            ),
            models.CheckConstraint(
                condition=Q(severity__in=HealthSeverity.values)
                & ~Q(severity=HealthSeverity.HEALTHY),
                name="operationalalert_severity_valid",
            ),
            models.CheckConstraint(
                condition=(Q(status=OperationalAlertStatus.OPEN) & Q(resolved_at__isnull=True))
                | (Q(status=OperationalAlertStatus.RESOLVED) & Q(resolved_at__isnull=False)),
                name="operationalalert_resolved_at_iff_resolved",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(status=OperationalAlertStatus.RESOLVED),
                name="operationalalert_accepted_is_resolved",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "-opened_at"], name="opalert_partner_opened"),
            models.Index(fields=["status", "-opened_at"], name="opalert_status_opened"),
        ]

    def __str__(self) -> str:
        return f"{self.severity} {self.metric} at {self.partner or 'the learned risk score'}"


class OperationalAlertEvent(AppendOnlyModel):
    """Append-only history of an operational alert: raised, each escalation, resolved."""

    alert = models.ForeignKey(OperationalAlert, on_delete=models.PROTECT, related_name="events")
    type = models.CharField(max_length=10, choices=OperationalAlertEventType.choices)
    severity = models.CharField(max_length=10, choices=HealthSeverity.choices)
    minute = models.DateTimeField()
    persistence_minutes = models.PositiveIntegerField()
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["alert", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=OperationalAlertEventType.values),
                name="opalertevent_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.type} {self.severity}"


class SlackDelivery(models.Model):
    """One operational alert event posted to a Slack-compatible incoming webhook. Kept so a
    failure is visible (admin, Slack deliveries) rather than lost in a worker's log; the task
    retries it after the monitor's minute has committed."""

    event = models.ForeignKey(
        OperationalAlertEvent, on_delete=models.PROTECT, related_name="slack_deliveries"
    )
    url = models.URLField(max_length=500)
    text = models.TextField()
    status = models.CharField(
        max_length=10, choices=SlackDeliveryStatus.choices, default=SlackDeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next attempt is due; empty once sent or failed."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "Slack deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SlackDeliveryStatus.values),
                name="slackdelivery_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(delivered_at__isnull=True) | Q(status=SlackDeliveryStatus.SENT),
                name="slackdelivery_delivered_iff_sent",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="slackdelivery_status"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status=SlackDeliveryStatus.PENDING),
                name="slackdelivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.url} ({self.status})"
