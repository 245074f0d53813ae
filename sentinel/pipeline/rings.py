"""Network rings, end to end: the scheduled window scan over a partner's recent graph
(sentinel.network), and each ring it finds for the first time raised as one alert, under the
ring rule of its shape, on the ring's hub, then taken into the hub's case.

Network analytics sits below alerts and may not import them, so this module, above both, does
what the pipeline's stages do for a transaction's rule hits: it calls the network service, then
the alerts and cases services, in one database transaction (a failure keeps neither the rings
nor their alerts, and the next run finds them again).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from uuid import UUID

from django.db import transaction as db_transaction

from alerts.services import AlertChanges, Finding, Ring, alerts_from_findings
from cases.services import cases_from_alerts
from rules.engine import Evaluation
from sentinel.network.choices import PatternKind
from sentinel.network.features import NetworkFeatures
from sentinel.network.models import NetworkFinding, NetworkPattern
from sentinel.network.services import network_patterns_scan
from sentinel.network.window import WindowParameters
from transactions.selectors import account_customers

# The rule each shape's rings are raised under (rules.default_pack.NETWORK_RING_PACK).
RULE_FOR_PATTERN = {
    PatternKind.FAN_IN: "network_fan_in",
    PatternKind.FAN_OUT: "network_fan_out",
    PatternKind.GATHER_SCATTER: "network_gather_scatter",
    PatternKind.SCATTER_GATHER: "network_scatter_gather",
    PatternKind.BIPARTITE: "network_bipartite",
    PatternKind.STACK: "network_stack",
}


def network_rings_alert(
    *,
    partner_id: int,
    until: datetime | None = None,
    parameters: WindowParameters | None = None,
) -> AlertChanges:
    """Scan the partner's window and raise an alert for each ring not known before (a ring met
    again grows its pattern and raises nothing); the alerts opened or updated."""
    with db_transaction.atomic():
        patterns = network_patterns_scan(partner_id=partner_id, until=until, parameters=parameters)
        changes = alerts_from_findings(findings=list(ring_findings(patterns)))
        cases_from_alerts(alerts=changes.alerts)
    return changes


def ring_findings(patterns: Sequence[NetworkPattern]) -> Iterator[Finding]:
    """One finding per ring, on its hub, carrying the ring (its members and transfers become
    the alert's rows) and, in the alert's event, the ring's own record."""
    customers = account_customers(accounts=[(p.partner_id, p.hub) for p in patterns])
    for pattern in patterns:
        others = len(pattern.members) - 1
        yield Finding(
            rule_code=RULE_FOR_PATTERN[PatternKind(pattern.kind)],
            partner_id=pattern.partner_id,
            account_external_id=pattern.hub,
            customer_external_id=customers.get((pattern.partner_id, pattern.hub), ""),
            summary=(
                f"{PatternKind(pattern.kind).label}: account {pattern.hub} and {others} others, "
                f"{len(pattern.transactions)} transfers from {pattern.first_at:%Y-%m-%d %H:%M} "
                f"to {pattern.last_at:%Y-%m-%d %H:%M} UTC (window scan, ring #{pattern.pk})"
            ),
            details={
                "network_pattern_id": pattern.pk,
                "kind": pattern.kind,
                "hub": pattern.hub,
                "members": pattern.members,
                "transactions": [str(tx_id) for tx_id in pattern.transactions],
                "first_at": pattern.first_at.isoformat(),
                "last_at": pattern.last_at.isoformat(),
            },
            ring=Ring(
                hub=pattern.hub,
                members=tuple(pattern.members),
                transaction_ids=tuple(pattern.transactions),
            ),
        )


def rings_through(evaluations: Sequence[Evaluation]) -> dict[tuple[UUID, int], Ring]:
    """For each live hit of a rule reading the ``network`` features, by (transaction id, rule
    id): the pattern the scoring path's searches found through its transaction (a cycle, a
    carried amount, a layering chain: its ``NetworkFinding``), as a ring around the
    transaction's customer-side account, for the hit's alert to carry. One query, and none
    when no such rule hit."""
    hits = [
        (evaluation.transaction, rule.rule_id)
        for evaluation in evaluations
        for rule, _ in evaluation.live_hits
        if NetworkFeatures.name in rule.providers
    ]
    if not hits:
        return {}
    findings = {
        finding.transaction_id: finding
        for finding in NetworkFinding.objects.filter(
            transaction_id__in={tx.id for tx, _ in hits}
        ).only("transaction_id", "members", "transactions")
    }
    return {
        (tx.id, rule_id): Ring(
            hub=tx.account_external_id,
            members=tuple(findings[tx.id].members),
            transaction_ids=tuple(findings[tx.id].transactions),
        )
        for tx, rule_id in hits
        if tx.id in findings and findings[tx.id].members
    }
