"""The enumerations of the operational monitor."""

from __future__ import annotations

from django.db import models


class Dimension(models.TextChoices):
    """What a minute's traffic can be broken down by ("" is the partner's whole traffic)."""

    CHANNEL = "channel", "Channel"
    PRODUCT = "product", "Product"
    ACQUIRER = "acquirer", "Acquirer"
    CARD_TYPE = "card_type", "Card type"


class Metric(models.TextChoices):
    """What is judged against a dynamic threshold each minute."""

    FAILED_RATE = "failed_rate", "Failed rate"
    DENIED_RATE = "denied_rate", "Denied rate"
    REVERSED_RATE = "reversed_rate", "Reversed rate"
    LATENCY_P95 = "latency_p95_ms", "Latency p95 (ms)"


class DriftMetric(models.TextChoices):
    """How far the learned risk score's live model moved from its training window, measured
    daily (population stability index). Not a partner's traffic: these alerts have no partner
    and are handed to the monitor by the pipeline's drift task (services.drift)."""

    MODEL_SCORE = "model_score_psi", "Model score drift (PSI)"
    MODEL_INPUT = "model_input_psi", "Model input drift (worst PSI)"


# What an operational alert can be about: a partner's traffic metric, or the model's drift.
ALERT_METRIC_CHOICES = [*Metric.choices, *DriftMetric.choices]


class HealthSeverity(models.TextChoices):
    """How long a metric has stayed above its threshold, in the issue's words (upper case)."""

    HEALTHY = "HEALTHY", "Healthy"
    INFO = "INFO", "Info"
    WARNING = "WARNING", "Warning"
    CRITICAL = "CRITICAL", "Critical"
    SEVERE = "SEVERE", "Severe"


HEALTH_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(HealthSeverity.values)}


class BaselineMethod(models.TextChoices):
    TRAILING = "trailing", "Trailing mean + k·σ"
    HOUR_OF_DAY = "hour_of_day", "Same hour of day, mean + k·σ"
    EWMA = "ewma", "Exponentially weighted mean + k·σ"


class OperationalAlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class OperationalAlertEventType(models.TextChoices):
    RAISED = "raised", "Raised"
    ESCALATED = "escalated", "Escalated"
    RESOLVED = "resolved", "Resolved"
    # Closed as a legitimate change of level: from its first minute on, the baseline is the
    # new level (docs/monitor.md § Long incidents).
    ACCEPTED = "accepted", "Accepted as the new normal"


class SlackDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (retries exhausted)"
