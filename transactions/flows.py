"""Money flow: where the money of some transactions came from and where it went, hop by hop.

A **forward hop** from account X at time t is a transaction out of X (X the originator: the
partner's customer paying out, or an outside account paying one of the partner's customers)
that occurred after t and at most the horizon later; a **backward hop** is a transaction into X
(X the beneficiary) before t and at most the horizon earlier. Chained, each hop is later (or
earlier) than the one before, so following the money always ends, also round a ring.

Each hop reads one range of one index (``tx_partner_originator_time`` forward,
``tx_partner_beneficiary_time`` backward), one partner's transactions only, the largest
amounts first (amounts compared as numbers, whatever their currency), at most ``limit`` of
them; ``more`` counts the ones left out. A hop of more than ``SCAN_CAP`` transactions (a hot
account) ranks the ``SCAN_CAP`` nearest in time and says so (``ranked_all`` false). Failed
and denied transactions moved no money and are left out; reversed ones show their status.

Nodes are accounts: the partner's own (``customer``), or outside counterparties (``outside``)
by account id, else by name (a name-only node cannot be followed further). A node's id is the
same whichever transaction reaches it, so a ring A→B→C→A closes back onto A's node.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from django.conf import settings
from django.utils import timezone

from .choices import TransactionStatus
from .models import Account, PartnerBank, Transaction
from .money import format_amount

MOVED_MONEY = (TransactionStatus.APPROVED, TransactionStatus.REVERSED)
# A hop ranks at most this many transactions by amount, the nearest in time to where it starts:
# a bound on its cost whatever the account's volume (about 50 ms at the cap).
SCAN_CAP = 5000
START_LIMIT = 25  # alerted transactions drawn at the start, largest first
# A ring's transfers drawn at the start, besides those: the pattern whole (the window scan's
# rings seldom reach this; a larger one shows its largest and says how many more).
RING_LIMIT = 100
_FIELDS = (
    "id",
    "external_id",
    "occurred_at",
    "amount",
    "currency",
    "type",
    "status",
    "originator_account_id",
    "originator_name",
    "beneficiary_account_id",
    "beneficiary_name",
)


class FlowDirection(StrEnum):
    FORWARD = "forward"  # where the money went: out of the account, later
    BACKWARD = "backward"  # where it came from: into the account, earlier


@dataclass(frozen=True)
class FlowNode:
    id: str  # "account:<id>", "name:<name>" or "unknown:<transaction id>:<side>"
    kind: Literal["customer", "outside"]
    account: str  # the account id; "" when only a name is known (it cannot be followed)
    label: str
    role: str = ""  # its role in the ring drawn (hub, sender, receiver, intermediary), if any


@dataclass(frozen=True)
class FlowEdge:
    transaction: Transaction
    source: str  # node id of the originator
    target: str  # node id of the beneficiary
    alerted: bool = False
    ring: bool = False  # one of the transfers forming the ring drawn


@dataclass
class MoneyFlow:
    nodes: list[FlowNode] = field(default_factory=list)
    edges: list[FlowEdge] = field(default_factory=list)
    more: int = 0  # transactions of this hop (or alerted ones) not shown
    ranked_all: bool = True  # False: over SCAN_CAP in the hop, the largest of the nearest shown


def money_flow_start(
    *,
    partner: PartnerBank,
    transactions: Iterable[Transaction],
    limit: int = START_LIMIT,
    ring: Collection = (),
    roles: Mapping[str, str] | None = None,
) -> MoneyFlow:
    """The alerted transactions of a case or an alert (already loaded), largest first, with
    their two parties: where the view starts. ``ring`` names those that form a ring (drawn
    as the pattern, up to RING_LIMIT of them besides ``limit`` others) and ``roles`` its
    members' roles by account id. One query (which accounts are customers)."""
    own = {tx.pk: tx for tx in transactions if tx.partner_id == partner.pk}
    ordered = sorted(own.values(), key=lambda tx: (-tx.amount, tx.occurred_at, str(tx.pk)))
    pattern = [tx for tx in ordered if tx.pk in ring][:RING_LIMIT]
    shown = [*pattern, *[tx for tx in ordered if tx.pk not in ring][:limit]]
    return _flow(
        partner,
        shown,
        more=len(ordered) - len(shown),
        alerted=True,
        ring={tx.pk for tx in pattern},
        roles=roles or {},
    )


def money_flow_hop(
    *,
    partner: PartnerBank,
    account: str,
    direction: FlowDirection,
    at: datetime,
    horizon: timedelta | None = None,
    limit: int | None = None,
) -> MoneyFlow:
    """One hop from ``account`` at ``at``: the transactions out of it after ``at`` (forward)
    or into it before ``at`` (backward), within the horizon, largest first. Two or three
    queries: the hop, its count when it is cut, and which accounts are customers."""
    horizon = horizon or timedelta(days=settings.SENTINEL_MONEY_FLOW_HORIZON_DAYS)
    limit = limit or settings.SENTINEL_MONEY_FLOW_FAN_OUT
    moved = Transaction.objects.filter(partner=partner, status__in=MOVED_MONEY)
    if direction == FlowDirection.FORWARD:
        rows = moved.filter(
            originator_account_id=account, occurred_at__gt=at, occurred_at__lte=at + horizon
        )
        nearest_first = ("occurred_at", "id")
    else:
        rows = moved.filter(
            beneficiary_account_id=account, occurred_at__lt=at, occurred_at__gte=at - horizon
        )
        nearest_first = ("-occurred_at", "-id")
    # Rank the nearest SCAN_CAP in time, not the whole range: a hot account's month can be
    # 100,000 transactions, and ranking them all is a heap read per row (docs/cases.md).
    nearest = rows.only(*_FIELDS).order_by(*nearest_first)[:SCAN_CAP]
    sql, params = nearest.query.sql_with_params()
    largest = "SELECT * FROM ({}) AS nearest ORDER BY amount DESC, occurred_at, id LIMIT %s"
    shown = list(Transaction.objects.raw(largest.format(sql), (*params, limit)))
    total = len(shown)
    if total == limit:
        total = rows.order_by()[: SCAN_CAP + 1].count()
    return _flow(
        partner, shown, more=min(total, SCAN_CAP) - len(shown), ranked_all=total <= SCAN_CAP
    )


def _flow(
    partner: PartnerBank,
    transactions: Sequence[Transaction],
    *,
    more: int,
    alerted: bool = False,
    ranked_all: bool = True,
    ring: Collection = (),
    roles: Mapping[str, str] | None = None,
) -> MoneyFlow:
    parties = [(_party(tx, "originator"), _party(tx, "beneficiary")) for tx in transactions]
    accounts = {party[1] for pair in parties for party in pair if party[1]}
    customers = _customer_names(partner, accounts)
    roles = roles or {}
    nodes: dict[str, FlowNode] = {}
    for pair in parties:
        for node_id, account, name in pair:
            if node_id in nodes:
                continue
            role = roles.get(account, "") if account else ""
            if account in customers:
                label = _label(account, customers[account])
                nodes[node_id] = FlowNode(node_id, "customer", account, label, role)
            else:
                nodes[node_id] = FlowNode(node_id, "outside", account, _label(account, name), role)
    edges = [
        FlowEdge(tx, source[0], target[0], alerted, tx.pk in ring)
        for tx, (source, target) in zip(transactions, parties, strict=True)
    ]
    return MoneyFlow(nodes=list(nodes.values()), edges=edges, more=more, ranked_all=ranked_all)


def _party(tx: Transaction, side: str) -> tuple[str, str, str]:
    """(node id, account id, name) of one side of a transaction."""
    account = getattr(tx, f"{side}_account_id")
    name = getattr(tx, f"{side}_name")
    if account:
        return f"account:{account}", account, name
    if name:
        return f"name:{name}", "", name
    return f"unknown:{tx.pk}:{side}", "", ""


def _customer_names(partner: PartnerBank, accounts: set[str]) -> dict[str, str]:
    """The partner's own accounts among these ids, each with its customer's name (or id)."""
    if not accounts:
        return {}
    rows = Account.objects.filter(partner=partner, external_id__in=accounts).values_list(
        "external_id", "customer__name", "customer__external_id"
    )
    return {account: name or customer or "" for account, name, customer in rows}


def _label(account: str, name: str) -> str:
    if account and name:
        return f"{account} · {name}"
    return account or name or "unknown counterparty"


def money_flow_json(flow: MoneyFlow) -> dict[str, Any]:
    """The flow as plain JSON data, for the page (``json_script``) and the hop endpoint:
    amounts as exact strings with their currency, times in ISO 8601 and as shown."""
    labels = {node.id: node.label for node in flow.nodes}
    return {
        "nodes": [
            {"id": n.id, "kind": n.kind, "account": n.account, "label": n.label, "role": n.role}
            for n in flow.nodes
        ],
        "edges": [_edge_json(edge, labels) for edge in flow.edges],
        "ring_transfers": sum(edge.ring for edge in flow.edges),
        "more": flow.more,
        "ranked_all": flow.ranked_all,
        "scan_cap": SCAN_CAP,
    }


def _edge_json(edge: FlowEdge, labels: dict[str, str]) -> dict[str, Any]:
    tx = edge.transaction
    return {
        "id": str(tx.pk),
        "external_id": tx.external_id,
        "source": edge.source,
        "target": edge.target,
        "source_label": labels[edge.source],
        "target_label": labels[edge.target],
        "amount": format_amount(tx.amount, tx.currency),
        "currency": tx.currency,
        "occurred_at": tx.occurred_at.isoformat(),
        "date": timezone.localtime(tx.occurred_at).strftime("%Y-%m-%d %H:%M"),
        "type": tx.get_type_display(),
        "status": tx.status,
        "alerted": edge.alerted,
        "ring": edge.ring,
    }
