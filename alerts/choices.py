"""Enumerations of alerts."""

from django.db import models


class AlertStatus(models.TextChoices):
    """new -> acknowledged -> in_case | dismissed; new may also go straight to dismissed."""

    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    IN_CASE = "in_case", "In a case"
    DISMISSED = "dismissed", "Dismissed"


# An open alert still waits for an investigator; at most one per rule and subject.
OPEN_STATUSES = (AlertStatus.NEW, AlertStatus.ACKNOWLEDGED)


class AlertEventType(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    DISMISSED = "dismissed", "Dismissed"
    SEVERITY_RAISED = "severity_raised", "Severity raised"


class DeliveryState(models.TextChoices):
    """pending -> delivered | dead (after the last attempt); staff may replay a dead one."""

    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead-lettered"
