"""Linked entities: who is connected to a case's subject within a few hops.

One hop joins two accounts of a partner (or an account and an outside counterparty) through

* a **transfer** between them (either direction),
* a **shared device** or a **shared IP address** (both used on the customer side of their
  transactions), or
* a **shared counterparty**: both sent money to, or received money from, the same outside account.

Devices, IPs and outside counterparties are drawn as nodes of their own (hubs): passing through
one costs a single hop, so "D used the subject's phone" is one hop, like a direct transfer. The
customers owning the accounts are added with ``owns`` edges (no hop). Everything is scoped to one
partner; each hop costs four queries, whatever the fan-out, and the graph is capped at ``limit``
nodes (``truncated`` says when the cap cut it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Case, CharField, Count, F, Q, Sum, When
from django.urls import NoReverseMatch, reverse

from transactions.models import Account, Transaction
from transactions.money import format_amount

NodeKind = Literal["account", "customer", "device", "ip", "counterparty"]
EdgeKind = Literal["transfer", "shared_device", "shared_ip", "shared_counterparty", "owns"]
DEFAULT_LIMIT = 200
RISK_ORDER = {"": 0, "low": 1, "medium": 2, "high": 3}
# Rows read per query, relative to the node cap: enough to fill the graph, never unbounded.
ROWS_PER_NODE = 5


@dataclass
class LinkNode:
    id: str  # "<kind>:<key>"
    kind: NodeKind
    key: str  # the partner's account/customer id, the device id, the IP address
    label: str
    hop: int
    risk_rating: str = ""  # low | medium | high for accounts and customers, else ""
    url: str | None = None
    is_subject: bool = False
    pk: int | None = None  # database id of an Account or Customer


@dataclass
class LinkEdge:
    source: str
    target: str
    kind: EdgeKind
    count: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)  # currency → sum (transfers)

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.source}->{self.target}"


@dataclass
class LinkGraph:
    subject_ids: list[str]
    nodes: list[LinkNode]
    edges: list[LinkEdge]
    hops: int
    limit: int
    truncated: bool = False
    since: datetime | None = None

    def node(self, node_id: str) -> LinkNode | None:
        return next((node for node in self.nodes if node.id == node_id), None)

    def keys(self, kind: NodeKind) -> set[str]:
        return {node.key for node in self.nodes if node.kind == kind}


UrlFor = Callable[[LinkNode], str | None]


def admin_url(node: LinkNode) -> str | None:
    """The default link of a node: the admin page of its account or customer."""
    names = {
        "account": "admin:transactions_account_change",
        "customer": "admin:transactions_customer_change",
    }
    if node.pk is None or node.kind not in names:
        return None
    try:
        return reverse(names[node.kind], args=[node.pk])
    except NoReverseMatch:
        return None


def node_id(kind: str, key: str) -> str:
    return f"{kind}:{key}"


class _Builder:
    def __init__(self, partner, since: datetime | None, limit: int):

        self.partner = partner
        self.limit = limit
        self.rows = limit * ROWS_PER_NODE
        self.nodes: dict[str, LinkNode] = {}
        self.edges: dict[tuple[str, str, str], LinkEdge] = {}
        self.truncated = False
        self.seen_rows: set[tuple] = set()
        self.partner_accounts: dict[str, dict] = {}  # external id → account row
        self.outside: set[str] = set()  # account ids that are not the partner's
        transactions = Transaction.objects.filter(partner=partner)
        if since is not None:
            transactions = transactions.filter(occurred_at__gte=since)
        self.transactions = transactions

    # --- nodes and edges -------------------------------------------------------------------------

    def add_node(self, kind: NodeKind, key: str, hop: int, **values: Any) -> LinkNode | None:
        nid = node_id(kind, key)
        if nid in self.nodes:
            return self.nodes[nid]
        if len(self.nodes) >= self.limit:
            self.truncated = True
            return None
        node = LinkNode(id=nid, kind=kind, key=key, label=values.pop("label", key), hop=hop)
        for name, value in values.items():
            setattr(node, name, value)
        self.nodes[nid] = node
        return node

    def add_edge(
        self, source: str, target: str, kind: EdgeKind, count: int, totals=None, *, row=None
    ) -> None:
        """Add to the edge's weight; ``row`` identifies the query row, so a row read again by a
        later hop is not counted twice."""
        if source not in self.nodes or target not in self.nodes:
            return
        if row is not None:
            if row in self.seen_rows:
                return
            self.seen_rows.add(row)
        edge = self.edges.setdefault((source, target, kind), LinkEdge(source, target, kind))
        edge.count += count
        for currency, amount in (totals or {}).items():
            edge.totals[currency] = edge.totals.get(currency, Decimal(0)) + amount

    def account_node(self, key: str, hop: int) -> LinkNode | None:
        if key in self.partner_accounts:
            row = self.partner_accounts[key]
            return self.add_node(
                "account", key, hop, pk=row["id"], risk_rating=row["risk"] or "low"
            )
        return self.add_node("counterparty", key, hop)

    def entity_id(self, key: str) -> str:
        kind = "account" if key in self.partner_accounts else "counterparty"
        return node_id(kind, key)

    # --- queries ----------------------------------------------------------------------------------

    def classify(self, keys: Iterable[str]) -> None:
        """Which account ids are the partner's own accounts (one query)."""

        unknown = {
            k for k in keys if k and k not in self.partner_accounts and k not in self.outside
        }
        if not unknown:
            return
        rows = Account.objects.filter(partner=self.partner, external_id__in=unknown).values(
            "id",
            "external_id",
            "customer_id",
            "customer__external_id",
            "customer__name",
            risk=F("profile__risk_rating"),
        )
        for row in rows:
            self.partner_accounts[row["external_id"]] = row
        self.outside |= unknown - set(self.partner_accounts)

    def transfers(self, keys: set[str]) -> list[dict]:
        """Transfers touching any of ``keys``, summed per (originator, beneficiary, currency)."""
        return list(
            self.transactions.filter(
                Q(originator_account_id__in=keys) | Q(beneficiary_account_id__in=keys)
            )
            .exclude(originator_account_id="")
            .exclude(beneficiary_account_id="")
            .values("originator_account_id", "beneficiary_account_id", "currency")
            .annotate(n=Count("id"), total=Sum("amount"))
            .order_by("-n", "originator_account_id", "beneficiary_account_id", "currency")[
                : self.rows
            ]
        )

    def shared_hubs(self, keys: set[str]) -> list[dict]:
        """Accounts that used, on their customer side, a device or IP that one of ``keys`` used
        there: one row per (account, device, ip) with its count. Two queries: the frontier's own
        devices and IPs, then everyone who used them."""
        customer_account = Case(
            When(direction="outbound", then=F("originator_account_id")),
            default=F("beneficiary_account_id"),
            output_field=CharField(),
        )
        own = list(
            self.transactions.filter(
                Q(direction="outbound", originator_account_id__in=keys)
                | Q(direction="inbound", beneficiary_account_id__in=keys)
            )
            .values_list("device_id", "ip_address")
            .order_by("device_id", "ip_address")
            .distinct()[: self.rows]
        )
        devices = {device for device, _ in own if device}
        ips = {ip for _, ip in own if ip}
        if not devices and not ips:
            return []
        rows = (
            self.transactions.filter(Q(device_id__in=devices) | Q(ip_address__in=ips))
            .annotate(account=customer_account)
            .values("account", "device_id", "ip_address")
            .annotate(n=Count("id"))
            .order_by("-n", "account", "device_id", "ip_address")[: self.rows]
        )
        result = []
        for row in rows:
            result.append(
                {
                    **row,
                    "device_id": row["device_id"] if row["device_id"] in devices else "",
                    "ip_address": str(row["ip_address"]) if row["ip_address"] in ips else "",
                }
            )
        return result

    def customers(self) -> None:
        """Customer nodes of the partner accounts in the graph, with their ``owns`` edges."""
        owners: dict[str, list[LinkNode]] = {}
        for node in list(self.nodes.values()):
            if node.kind != "account":
                continue
            row = self.partner_accounts.get(node.key)
            if row and row["customer__external_id"]:
                owners.setdefault(row["customer__external_id"], []).append(node)
        for customer_key, accounts in sorted(owners.items()):
            row = self.partner_accounts[accounts[0].key]
            risk = max((a.risk_rating for a in accounts), key=lambda r: RISK_ORDER.get(r, 0))
            node = self.add_node(
                "customer",
                customer_key,
                min(a.hop for a in accounts),
                label=row["customer__name"] or customer_key,
                pk=row["customer_id"],
                risk_rating=risk,
                is_subject=any(a.is_subject for a in accounts),
            )
            if node is None:
                continue
            if node.label != customer_key:
                node.label = f"{node.label} ({customer_key})"
            for account in accounts:
                self.add_edge(node.id, account.id, "owns", 1)


def linked_entities(
    *,
    partner,
    customer_external_id: str | None = None,
    account_external_id: str | None = None,
    hops: int = 2,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    url_for: UrlFor | None = admin_url,
) -> LinkGraph:
    """The accounts, customers, devices, IPs and outside counterparties within ``hops`` of the
    subject (a customer's accounts, or one account), for one partner.

    ``since`` limits the transactions considered (recommended on busy partners: it bounds the
    device/IP look-ups, which have no index of their own). ``url_for(node)`` gives each node its
    link (default: the admin page of the account or customer); pass one that prefers the node's
    open case.
    """

    builder = _Builder(partner, since, limit)
    if customer_external_id:
        start = set(
            Account.objects.filter(
                partner=partner, customer__external_id=customer_external_id
            ).values_list("external_id", flat=True)
        )
    else:
        start = set()
    if account_external_id:
        start.add(account_external_id)

    builder.classify(start)
    for key in sorted(start):
        node = builder.account_node(key, 0)
        if node is not None:
            node.is_subject = True
    frontier = {key for key in start if builder.entity_id(key) in builder.nodes}

    for hop in range(1, hops + 1):
        if not frontier:
            break
        reached: set[str] = set()

        # 1. Transfers to and from the frontier.
        direct = builder.transfers(frontier)
        others = {
            row[side]
            for row in direct
            for side in ("originator_account_id", "beneficiary_account_id")
        } - frontier
        builder.classify(others)
        # 2. Outside counterparties of the frontier are hubs: whoever else dealt with them is
        # reached in this same hop (a shared counterparty).
        counterparties = {key for key in others if key in builder.outside}
        shared = builder.transfers(counterparties) if counterparties else []
        builder.classify(
            row[side]
            for row in shared
            for side in ("originator_account_id", "beneficiary_account_id")
        )
        for row in direct:
            for side in ("originator_account_id", "beneficiary_account_id"):
                key = row[side]
                if builder.entity_id(key) not in builder.nodes and builder.account_node(key, hop):
                    reached.add(key)
        for row in shared:
            for side in ("originator_account_id", "beneficiary_account_id"):
                key = row[side]
                if key in builder.outside:
                    continue  # counterparties of counterparties are outside our view
                if builder.entity_id(key) not in builder.nodes and builder.account_node(key, hop):
                    reached.add(key)
        for row in direct + shared:
            builder.add_edge(
                builder.entity_id(row["originator_account_id"]),
                builder.entity_id(row["beneficiary_account_id"]),
                "transfer",
                row["n"],
                {row["currency"]: row["total"]},
                row=(row["originator_account_id"], row["beneficiary_account_id"], row["currency"]),
            )

        # 3. Devices and IPs the frontier used, and who else used them (a hub is drawn only when
        # two or more accounts share it).
        partner_frontier = {key for key in frontier if key not in builder.outside}
        hubs = builder.shared_hubs(partner_frontier) if partner_frontier else []
        users: dict[tuple[str, str, str], dict[str, int]] = {}
        for row in hubs:
            if not row["account"]:
                continue
            for kind, key, edge_kind in (
                ("device", row["device_id"], "shared_device"),
                ("ip", row["ip_address"], "shared_ip"),
            ):
                if key:
                    counts = users.setdefault((kind, key, edge_kind), {})
                    counts[row["account"]] = counts.get(row["account"], 0) + row["n"]
        builder.classify(account for counts in users.values() for account in counts)
        for (kind, key, edge_kind), counts in sorted(users.items()):
            if len(counts) < 2:
                continue
            hub = builder.add_node(kind, key, hop)
            if hub is None:
                continue
            for account, count in sorted(counts.items()):
                if builder.entity_id(account) not in builder.nodes and builder.account_node(
                    account, hop
                ):
                    reached.add(account)
                builder.add_edge(
                    builder.entity_id(account), hub.id, edge_kind, count, row=(account, hub.id)
                )

        frontier = {key for key in reached if key not in builder.outside}

    _mark_shared_counterparties(builder)
    builder.customers()
    nodes = sorted(builder.nodes.values(), key=lambda n: (n.hop, not n.is_subject, n.kind, n.key))
    if url_for is not None:
        for node in nodes:
            node.url = url_for(node)
    return LinkGraph(
        subject_ids=[n.id for n in nodes if n.is_subject],
        nodes=nodes,
        edges=sorted(builder.edges.values(), key=lambda e: (e.kind, e.source, e.target)),
        hops=hops,
        limit=limit,
        truncated=builder.truncated,
        since=since,
    )


def _mark_shared_counterparties(builder: _Builder) -> None:
    """Transfers with an outside counterparty that two or more accounts in the graph dealt
    with are the ``shared_counterparty`` links."""
    partners_of: dict[str, set[str]] = {}
    for source, target, kind in builder.edges:
        if kind != "transfer":
            continue
        for hub, other in ((source, target), (target, source)):
            if hub.startswith("counterparty:") and other.startswith("account:"):
                partners_of.setdefault(hub, set()).add(other)
    for key in list(builder.edges):
        source, target, kind = key
        if kind != "transfer":
            continue
        hub = source if source.startswith("counterparty:") else target
        if hub.startswith("counterparty:") and len(partners_of.get(hub, ())) >= 2:
            edge = builder.edges.pop(key)
            edge.kind = "shared_counterparty"
            builder.edges[(source, target, "shared_counterparty")] = edge


def _money(amount: Decimal, currency: str) -> str:

    return format_amount(amount, currency)


NODE_LABELS = {
    "account": "account",
    "customer": "customer",
    "device": "device",
    "ip": "IP address",
    "counterparty": "outside counterparty",
}
EDGE_LABELS = {
    "transfer": "transfer",
    "shared_device": "shared device",
    "shared_ip": "shared IP",
    "shared_counterparty": "shared counterparty",
    "owns": "owns",
}


def linked_graph_json(graph: LinkGraph) -> dict[str, Any]:
    """The graph as plain JSON data, for ``{{ linked_graph_data|json_script:"linked-graph" }}``:
    nodes and edges with display labels, amounts as formatted strings."""
    labels = {node.id: node.label for node in graph.nodes}
    return {
        "subject": graph.subject_ids,
        "hops": graph.hops,
        "limit": graph.limit,
        "truncated": graph.truncated,
        "nodes": [
            {
                "id": node.id,
                "kind": node.kind,
                "key": node.key,
                "label": node.label,
                "kind_label": NODE_LABELS.get(node.kind, node.kind),
                "hop": node.hop,
                "risk": node.risk_rating,
                "url": node.url,
                "subject": node.is_subject,
            }
            for node in graph.nodes
        ],
        "edges": [
            {
                "id": edge.id,
                "source": edge.source,
                "target": edge.target,
                "source_label": labels.get(edge.source, edge.source),
                "target_label": labels.get(edge.target, edge.target),
                "kind": edge.kind,
                "kind_label": EDGE_LABELS.get(edge.kind, edge.kind),
                "label": edge_label(edge),
                "count": edge.count,
                "totals": {c: _money(a, c) for c, a in sorted(edge.totals.items())},
            }
            for edge in graph.edges
        ],
    }


def edge_label(edge: LinkEdge) -> str:
    """'transfer · 3× · 4,500.00 USD' — what the edge stands for, in a few words."""
    parts = [EDGE_LABELS.get(edge.kind, edge.kind)]
    if edge.kind != "owns" and edge.count:
        parts.append(f"{edge.count}×")
    parts += [f"{_money(a, c)} {c}" for c, a in sorted(edge.totals.items())]
    return " · ".join(parts)
