"""What the transactions app (and the apps above it) tell the pipeline, without knowing who
listens.

``flagged_accounts_changed`` is sent after the commit that may have changed which accounts are
known bad: a partner confirmed fraud on a transfer or took a confirmation back
(transactions), a case closed with a filed SAR (cases), entries added to or removed from an
account list (rules). The pipeline answers by recomputing proximity to those accounts
(docs/network.md § Proximity); the senders sit below it and may not call it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction as db_transaction
from django.dispatch import Signal

# Sent with ``partner_id`` (None: every partner, a list's entries being everyone's) and
# ``accounts``: the accounts newly flagged, or empty when a flag may have been lifted.
flagged_accounts_changed = Signal()


def flagged_accounts_announce(*, partner_id: int | None, accounts: Iterable[str] = ()) -> None:
    """Send ``flagged_accounts_changed`` once the caller's transaction commits (never for a
    change that rolled back)."""
    flagged = tuple(sorted({account for account in accounts if account}))
    db_transaction.on_commit(
        lambda: flagged_accounts_changed.send(
            sender=flagged_accounts_changed, partner_id=partner_id, accounts=flagged
        ),
        robust=True,
    )
