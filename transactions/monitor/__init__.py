"""The operational monitor: per-minute aggregates, dynamic thresholds, persistence-based
severity and operational alerts (docs/monitor.md)."""
