"""Writes of the operational monitor: every change to its tables goes through one of these.

- ``aggregation``: MinuteStat rows recomputed from the minutes' transactions;
- ``cycle``: the monitoring cycle and the operational alerts it raises, escalates, resolves;
- ``drift``: the learned risk score's drift, handed over daily, as operational alerts;
- ``replay``: per-minute status counts stored as historical transactions;
- ``slack``: operational alert events posted to a Slack-compatible incoming webhook.
"""

from .aggregation import minute_stats_rebuild, minute_stats_refresh
from .cycle import (
    CycleResult,
    monitor_cycle_run,
    monitor_evaluate,
    operational_alert_accept,
    operational_alert_escalate,
    operational_alert_event_record,
    operational_alert_raise,
    operational_alert_resolve,
    operational_alert_track,
)
from .drift import model_drift_alert_track, model_drift_judge
from .replay import ReplayError, ReplayResult, transactions_replay
from .slack import slack_deliver, slack_delivery_record

__all__ = [
    "CycleResult",
    "ReplayError",
    "ReplayResult",
    "minute_stats_rebuild",
    "minute_stats_refresh",
    "model_drift_alert_track",
    "model_drift_judge",
    "monitor_cycle_run",
    "monitor_evaluate",
    "operational_alert_accept",
    "operational_alert_escalate",
    "operational_alert_event_record",
    "operational_alert_raise",
    "operational_alert_resolve",
    "operational_alert_track",
    "slack_deliver",
    "slack_delivery_record",
    "transactions_replay",
]
