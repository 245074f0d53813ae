"""Network rings, end to end: the scheduled window scan over a partner's recent graph
(sentinel.network), and each ring it finds for the first time raised as one alert, under the
ring rule of its shape, on the ring's hub, then taken into the hub's case; a ring it grows
adds to that alert (or, once the alert is closed, raises its new activity as a new one).

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

from alerts.models import Alert
from alerts.selectors import RingSubject, ring_alert_subjects, ring_alerts_latest
from alerts.services import (
    AlertChanges,
    Finding,
    Ring,
    RingGrowth,
    alerts_from_findings,
    alerts_ring_grow,
)
from cases.models import Case
from cases.services import cases_from_alerts
from rules.engine import Evaluation
from rules.selectors import live_rule_codes
from sentinel.network.choices import PatternKind
from sentinel.network.features import NetworkFeatures
from sentinel.network.models import NetworkFinding, NetworkPattern
from sentinel.network.services import PatternGrowth, network_patterns_scan_changes
from sentinel.network.window import WindowParameters
from transactions.models import Transaction
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
        scanned = network_patterns_scan_changes(
            partner_id=partner_id, until=until, parameters=parameters
        )
        grown, findings = rings_grow(scanned.grown)
        changes = alerts_from_findings(findings=[*ring_findings(scanned.new), *findings])
        changes.updated += [alert for alert in grown if alert not in changes.alerts]
        cases_from_alerts(alerts=changes.alerts)
    return changes


def rings_grow(growths: Sequence[PatternGrowth]) -> tuple[list[Alert], list[Finding]]:
    """A known ring a re-scan grew: the alert raised on it takes its new members and
    transfers while someone deals with it (open, or in a case still active); once it is
    closed (dismissed, or its case closed), the new activity is a new alert on the hub,
    naming the earlier alert and case (continuing activity after a closed review is reviewed
    again). The alerts grown, and the findings still to raise.

    A ring whose first alert never was (its rule was not live) is raised whole, now. The
    alerts are found in one query and grown in one call, whatever the number of rings."""
    if not growths:
        return [], []
    added = _added_by_pattern(growths)
    raised, holding = _ring_alerts(growths, added)
    # A ring never raised whose rule is not live raises nothing now either (the alerts
    # service keeps live rules' findings only): its finding, every transfer written out, is
    # not built (on AMLSim, rules as installed, every ring of every daily re-scan).
    live = live_rule_codes(codes={RULE_FOR_PATTERN[PatternKind(g.pattern.kind)] for g in growths})
    customers = account_customers(accounts=[(g.pattern.partner_id, g.pattern.hub) for g in growths])
    results = iter(
        alerts_ring_grow(
            growths=[
                _ring_growth(
                    growth,
                    *raised[growth.pattern.pk],
                    added[growth.pattern.pk] if holding[growth.pattern.pk] else (),
                )
                for growth in growths
                if growth.pattern.pk in raised
            ]
        )
    )
    grown: list[Alert] = []
    findings: list[Finding] = []
    for growth in growths:
        pattern = growth.pattern
        earlier = raised.get(pattern.pk)
        if earlier is None:
            if RULE_FOR_PATTERN[PatternKind(pattern.kind)] in live:
                findings.append(_finding(pattern, customers))
            continue
        alert, case = earlier
        result = next(results)
        if result is None:
            findings.append(_new_activity(growth, alert, case, customers))
        elif result[1]:
            grown.append(result[0])
    return grown, findings


def _added_by_pattern(growths: Sequence[PatternGrowth]) -> dict[int, tuple[UUID, ...]]:
    """By pattern id: every transfer this scan added to it. One scan may grow a ring several
    times (window rings of one shape around one hub merge into it), each growth holding the
    pattern as it ends the scan."""
    added: dict[int, dict[UUID, None]] = {}
    for growth in growths:
        added.setdefault(growth.pattern.pk, {}).update(dict.fromkeys(growth.transactions))
    return {pk: tuple(transfers) for pk, transfers in added.items()}


def _ring_growth(
    growth: PatternGrowth, alert: Alert, case: Case | None, added: tuple[UUID, ...]
) -> RingGrowth:
    """What the alert takes of the grown ring: when it links every transfer the ring had
    before this scan (it took the ring each time), only what the scan added is read
    (``alerts_ring_grow``); else the whole ring."""
    return RingGrowth(
        alert_id=alert.pk,
        ring=_ring_of(growth.pattern),
        summary=_growth_summary(growth),
        details=_growth_details(growth),
        still_worked=case is not None and case.is_active,
        added=added,
    )


def _ring_alerts(
    growths: Sequence[PatternGrowth], added_by_pattern: dict[int, tuple[UUID, ...]]
) -> tuple[dict[int, tuple[Alert, Case | None]], dict[int, bool]]:
    """By pattern id: the latest alert raised on the ring (its rule's, on its hub, linking
    one of the transfers it had before it grew) and that alert's case; and whether that alert
    links every transfer the ring had before this scan. Three queries: the first leaves out
    the rings with no alert at all under their rule on their hub, whose transfers are then
    never gathered nor sent."""
    alerted = ring_alert_subjects(subjects=[_subject_of(growth.pattern) for growth in growths])
    wanted = []
    for growth in growths:
        pattern = growth.pattern
        if _subject_of(pattern) not in alerted:
            continue
        added = set(growth.transactions)
        scanned = added_by_pattern[pattern.pk]  # this growth's and the scan's others
        wanted.append(
            RingSubject(
                key=pattern.pk,
                rule_code=RULE_FOR_PATTERN[PatternKind(pattern.kind)],
                partner_id=pattern.partner_id,
                account_external_id=pattern.hub,
                transaction_ids=[tx_id for tx_id in pattern.transactions if tx_id not in added],
                pending=[tx_id for tx_id in scanned if tx_id not in added],
            )
        )
    latest = ring_alerts_latest(subjects=wanted)
    alerts = Alert.objects.select_related("rule", "case_link__case").in_bulk(
        {ring.alert_id for ring in latest.values()}
    )
    found: dict[int, tuple[Alert, Case | None]] = {}
    for pk, ring in latest.items():
        alert = alerts[ring.alert_id]
        case_link = getattr(alert, "case_link", None)
        found[pk] = (alert, case_link.case if case_link else None)
    return found, {pk: ring.links_all for pk, ring in latest.items()}


def _subject_of(pattern: NetworkPattern) -> tuple[str, int, str]:
    """The alerts' subject of a ring: its rule, its partner and its hub."""
    return RULE_FOR_PATTERN[PatternKind(pattern.kind)], pattern.partner_id, pattern.hub


def _growth_summary(growth: PatternGrowth) -> str:
    pattern = growth.pattern
    return (
        f"Ring #{pattern.pk} ({PatternKind(pattern.kind).label}) grew: "
        f"{len(growth.members)} new accounts, "
        f"{len(growth.transactions)} new transfers, latest {pattern.last_at:%Y-%m-%d %H:%M} UTC "
        f"(window scan, ring #{pattern.pk})"
    )


def _growth_details(growth: PatternGrowth) -> dict:
    return {
        "network_pattern_id": growth.pattern.pk,
        "kind": growth.pattern.kind,
        "hub": growth.pattern.hub,
        "members_added": list(growth.members),
        "transactions_added": [str(tx_id) for tx_id in growth.transactions],
        "last_at": growth.pattern.last_at.isoformat(),
    }


def _new_activity(
    growth: PatternGrowth, alert: Alert, case: Case | None, customers: dict
) -> Finding:
    """The ring's activity since its alert was closed, as a finding of its own: the hub, the
    accounts the new transfers involve, and those transfers."""
    pattern = growth.pattern
    involved = _transfer_accounts(growth.transactions)
    members = tuple(dict.fromkeys((pattern.hub, *sorted(involved & set(pattern.members)))))
    closed = f"case #{case.pk}" if case is not None else f"alert #{alert.pk}"
    return Finding(
        rule_code=alert.rule.code,
        partner_id=pattern.partner_id,
        account_external_id=pattern.hub,
        customer_external_id=customers.get((pattern.partner_id, pattern.hub), ""),
        summary=(
            f"{PatternKind(pattern.kind).label} continues after {closed} was closed: account "
            f"{pattern.hub} and {len(members) - 1} others, {len(growth.transactions)} new "
            f"transfers (window scan, ring #{pattern.pk})"
        ),
        details={
            **_growth_details(growth),
            "members": list(members),
            "transactions": [str(tx_id) for tx_id in growth.transactions],
            "earlier_alert_id": alert.pk,
            "earlier_case_id": case.pk if case is not None else None,
        },
        ring=Ring(hub=pattern.hub, members=members, transaction_ids=growth.transactions),
    )


def _transfer_accounts(transaction_ids: Sequence[UUID]) -> set[str]:
    rows = Transaction.objects.filter(pk__in=list(transaction_ids)).values_list(
        "originator_account_id", "beneficiary_account_id"
    )
    return {account for row in rows for account in row if account}


def _ring_of(pattern: NetworkPattern) -> Ring:
    return Ring(
        hub=pattern.hub, members=tuple(pattern.members), transaction_ids=tuple(pattern.transactions)
    )


def ring_findings(patterns: Sequence[NetworkPattern]) -> Iterator[Finding]:
    """One finding per ring, on its hub, carrying the ring (its members and transfers become
    the alert's rows) and, in the alert's event, the ring's own record."""
    customers = account_customers(accounts=[(p.partner_id, p.hub) for p in patterns])
    for pattern in patterns:
        yield _finding(pattern, customers)


def _finding(pattern: NetworkPattern, customers: dict) -> Finding:
    others = len(pattern.members) - 1
    return Finding(
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
