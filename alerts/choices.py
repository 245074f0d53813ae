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
    RING_GREW = "ring_grew", "Ring grew"


class MemberRole(models.TextChoices):
    """What an account does in the ring an alert names (``AlertMember``), read from the ring's
    transfers: the hub at its centre, accounts that only pay into it, only receive from it, or
    both (money passes through them)."""

    HUB = "hub", "Hub"
    SENDER = "sender", "Sender"
    RECEIVER = "receiver", "Receiver"
    INTERMEDIARY = "intermediary", "Intermediary"


class DeliveryState(models.TextChoices):
    """pending -> delivered | dead (after the last attempt); staff may replay a dead one."""

    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead-lettered"
