"""Alert services: every write to alerts goes through one of these functions."""

from .actions import AlertStateError, alert_acknowledge, alert_dismiss, alerts_move_into_case
from .bulk import (
    MAX_BULK,
    BulkResult,
    alerts_bulk_acknowledge,
    alerts_bulk_dismiss,
    alerts_bulk_snooze,
)
from .findings import Finding, alerts_from_findings
from .hits import AlertChanges, alerts_from_hits, alerts_page_on_call
from .queue_views import alert_queue_view_delete, alert_queue_view_save
from .rings import Ring, RingGrowth, alert_ring_grow, alerts_ring_grow
from .snoozes import SnoozeStateError, snooze_approve, snooze_create, snooze_lift
from .webhooks import (
    webhook_deliver,
    webhook_replay,
    webhooks_for_decisions,
    webhooks_requeue_overdue,
)

__all__ = [
    "alert_queue_view_delete",
    "alert_queue_view_save",
    "MAX_BULK",
    "BulkResult",
    "alerts_bulk_acknowledge",
    "alerts_bulk_dismiss",
    "alerts_bulk_snooze",
    "AlertChanges",
    "AlertStateError",
    "alert_acknowledge",
    "alert_dismiss",
    "alert_ring_grow",
    "alerts_ring_grow",
    "alerts_from_findings",
    "alerts_from_hits",
    "Finding",
    "alerts_move_into_case",
    "alerts_page_on_call",
    "Ring",
    "RingGrowth",
    "SnoozeStateError",
    "snooze_approve",
    "snooze_create",
    "snooze_lift",
    "webhook_deliver",
    "webhook_replay",
    "webhooks_for_decisions",
    "webhooks_requeue_overdue",
]
