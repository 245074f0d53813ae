"""Alert services: every write to alerts goes through one of these functions."""

from .actions import AlertStateError, alert_acknowledge, alert_dismiss
from .hits import AlertChanges, alerts_from_hits
from .snoozes import SnoozeStateError, snooze_create, snooze_lift

__all__ = [
    "AlertChanges",
    "AlertStateError",
    "alert_acknowledge",
    "alert_dismiss",
    "alerts_from_hits",
    "SnoozeStateError",
    "snooze_create",
    "snooze_lift",
]
