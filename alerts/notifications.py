"""The on-call notifier lives in ``sentinel.notifications`` (the monitor pages on-call too,
and must not import alerts). ``services/hits.py`` still imports it from here; once that import
reads ``from sentinel.notifications import on_call_notify``, this module goes."""

from sentinel.notifications import on_call_notify

__all__ = ["on_call_notify"]
