"""Alert services: every write to alerts goes through one of these functions."""

from .actions import AlertStateError, alert_acknowledge, alert_dismiss, alerts_move_into_case
from .hits import AlertChanges, alerts_from_hits, alerts_page_on_call
from .snoozes import SnoozeStateError, snooze_approve, snooze_create, snooze_lift
from .webhooks import (
    webhook_deliver,
    webhook_replay,
    webhooks_for_decisions,
    webhooks_requeue_overdue,
)

__all__ = [
    "AlertChanges",
    "AlertStateError",
    "alert_acknowledge",
    "alert_dismiss",
    "alerts_from_hits",
    "alerts_move_into_case",
    "alerts_page_on_call",
    "SnoozeStateError",
    "snooze_approve",
    "snooze_create",
    "snooze_lift",
    "webhook_deliver",
    "webhook_replay",
    "webhooks_for_decisions",
    "webhooks_requeue_overdue",
]
