"""Writes of the transaction graph: new edges, what the searches found, and the pruning."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from transactions.choices import TransactionStatus, TransactionType
from transactions.models import Transaction

from .detectors import Edge, Parameters, detect
from .models import NetworkFinding, Transfer
from .selectors import server_side_cursor, transfers_adjacent

# Money sent from one account to another. Card payments and refunds go to and from merchants,
# hubs every customer touches: through them everyone would be a hop from everyone (on the demo,
# customer → merchant → customer refunds closed hundreds of "cycles"). Cash has no other side.
MONEY_MOVES = frozenset(
    {TransactionType.TRANSFER, TransactionType.WIRE, TransactionType.ACH, TransactionType.P2P}
)


def transfers_record(*, transactions: Sequence[Transaction]) -> list[Edge]:
    """Add the batch's transfers between accounts to the graph (approved, both accounts known,
    not to itself); the edges added. A transaction already recorded (a retried batch) adds
    none."""
    edges = [
        Edge(
            tx.id,
            tx.partner_id,
            tx.originator_account_id,
            tx.beneficiary_account_id,
            tx.amount,
            tx.occurred_at,
        )
        for tx in transactions
        if tx.status == TransactionStatus.APPROVED
        and tx.type in MONEY_MOVES
        and tx.originator_account_id
        and tx.beneficiary_account_id
        and tx.originator_account_id != tx.beneficiary_account_id
    ]
    if edges:
        with server_side_cursor() as cursor:  # one statement, no model instance per edge
            cursor.execute(_INSERT, [list(column) for column in zip(*edges, strict=True)])
    return edges


_INSERT = """
INSERT INTO network_transfer
    (transaction_id, partner_id, source, target, amount, occurred_at)
SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::varchar[], %s::varchar[], %s::numeric[],
                     %s::timestamptz[])
ON CONFLICT DO NOTHING
"""


def network_extend(
    *, transactions: Sequence[Transaction], parameters: Parameters | None = None
) -> list[NetworkFinding]:
    """The pipeline's network step: record the batch's edges, search from each, and store
    what was found (read by the ``network`` feature provider in the next stage)."""
    edges = transfers_record(transactions=transactions)
    found = detect(edges, transfers_adjacent, parameters or Parameters())
    findings = [
        NetworkFinding(
            transaction_id=tx_id,
            partner_id=next(e.partner_id for e in finding.edges if e.id == tx_id),
            cycle_length=len(finding.cycle),
            cycle_days=finding.cycle_days,
            cycle_time_ordered=finding.cycle_time_ordered,
            carried_hops=max(1, len(finding.carried)),
            chain_depth=max(1, len(finding.chain)),
            members=finding.members,
            transactions=[edge.id for edge in finding.edges],
        )
        for tx_id, finding in found.items()
    ]
    return NetworkFinding.objects.bulk_create(findings, ignore_conflicts=True)


def transfers_prune(*, retention_days: int | None = None) -> int:
    """Forget the edges older than the retention window; how many went."""
    days = retention_days or settings.SENTINEL_NETWORK_RETENTION_DAYS
    deleted, _ = Transfer.objects.filter(
        occurred_at__lt=timezone.now() - timedelta(days=days)
    ).delete()
    return deleted
