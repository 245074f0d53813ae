"""What the screening app tells the rest of the system, without knowing who listens.

``list_changed`` is sent once an import that added or changed entries has committed: the
pipeline answers with continuous screening (known parties against those entries) and turns new
matches into alerts, which the screening app may not raise itself (it sits below alerts).
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with ``list_import``: the committed ListImport whose added and changed entries to screen.
list_changed = Signal()
