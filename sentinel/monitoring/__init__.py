"""The operational monitor: per-minute aggregates of each partner's traffic, dynamic
thresholds, persistence-based severity and operational alerts (docs/monitor.md).

It sits just above ``transactions`` (it reads stored transactions and partners) and imports
nothing else but Sentinel's core modules (``sentinel.live``, ``sentinel.notifications``).
"""
