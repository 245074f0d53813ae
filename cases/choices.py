"""Enumerations of cases."""

from django.db import models


class CaseStatus(models.TextChoices):
    """open -> investigating -> (pending_approval ->) closed; pending_approval may go back."""

    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    CLOSED = "closed", "Closed"


# Statuses of a case that still collects its subject's new alerts (one per subject).
ACTIVE_STATUSES = (CaseStatus.OPEN, CaseStatus.INVESTIGATING, CaseStatus.PENDING_APPROVAL)


class Disposition(models.TextChoices):
    FALSE_POSITIVE = "false_positive", "False positive"
    NO_ACTION = "no_action", "No action needed"
    SAR_FILED = "sar_filed", "Suspicious-activity report filed"
    CUSTOMER_EXITED = "customer_exited", "Customer exited"


class CaseEventType(models.TextChoices):
    OPENED = "opened", "Opened"
    ALERTS_ATTACHED = "alerts_attached", "Alerts attached"
    ALERT_UPDATED = "alert_updated", "Alert updated"
    ASSIGNED = "assigned", "Assigned"
    TEAM_CHANGED = "team_changed", "Team changed"
    STATUS_CHANGED = "status_changed", "Status changed"
    NOTE_ADDED = "note_added", "Note added"
    ATTACHMENT_ADDED = "attachment_added", "Attachment added"
    TAGGED = "tagged", "Tags changed"
    CLOSURE_PROPOSED = "closure_proposed", "Closure proposed"
    CLOSURE_APPROVED = "closure_approved", "Closure approved"
    SENT_BACK = "sent_back", "Sent back"
    CLOSED = "closed", "Closed"
    SAR_DRAFTED = "sar_drafted", "Suspicious-activity report drafted"
    SAR_EDITED = "sar_edited", "Suspicious-activity report edited"
    SAR_EXPORTED = "sar_exported", "Suspicious-activity report exported"


class SlaState(models.TextChoices):
    ON_TIME = "on_time", "On time"
    DUE_SOON = "due_soon", "Due soon"
    OVERDUE = "overdue", "Overdue"


class SarFormat(models.TextChoices):
    XML = "xml", "goAML XML"
    JSON = "json", "JSON"
    PDF = "pdf", "PDF"
