"""One case per ring: alerts about the same ring, whoever's accounts they are on, are
investigated together.

A cycle closed by two customers' transactions, or reported from both sides, is one alert per
customer-side account (the alerts' subjects differ). Intake (``cases_from_alerts``) asks this
module where each such alert belongs: two ring alerts are about the same ring when they link
a transaction in common or name the same member accounts. An alert of a ring already in an
active case goes to that case; the alerts of one ring arriving together go to one case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q

from alerts.models import Alert, AlertMember, AlertTransaction

from ..choices import ACTIVE_STATUSES
from ..models import CaseAlert, CaseSubject


@dataclass
class RingRoutes:
    """Where ring alerts go: ``cases``, by alert id, the active case already holding its ring;
    ``leads``, by alert id, the alert of the same ring (arriving now) whose case it joins."""

    cases: dict[int, int] = field(default_factory=dict)
    leads: dict[int, int] = field(default_factory=dict)

    @property
    def case_ids(self) -> set[int]:
        return set(self.cases.values())


def ring_routes(alerts: Sequence[Alert]) -> RingRoutes:
    """Route the ring alerts among ``alerts`` (those naming members); no query beyond one
    when none does."""
    routes = RingRoutes()
    members: dict[int, set[str]] = {}
    for alert_id, account in AlertMember.objects.filter(alert__in=alerts).values_list(
        "alert_id", "account_external_id"
    ):
        members.setdefault(alert_id, set()).add(account)
    if not members:
        return routes
    linked: dict[int, set] = {}
    for alert_id, tx_id in AlertTransaction.objects.filter(alert_id__in=members).values_list(
        "alert_id", "transaction_id"
    ):
        linked.setdefault(alert_id, set()).add(tx_id)
    by_id = {alert.pk: alert for alert in alerts if alert.pk in members}
    held = _rings_in_active_cases(by_id.values(), members, linked)
    for group in _same_rings(sorted(members), members, linked):
        case_id = next((held[pk] for pk in group if pk in held), None)
        for pk in group:
            if case_id is not None:
                routes.cases[pk] = case_id
            elif pk != group[0]:
                routes.leads[pk] = group[0]
    return routes


def _same_rings(
    ids: list[int], members: dict[int, set[str]], linked: dict[int, set]
) -> list[list[int]]:
    """The alerts grouped by ring (a transaction in common, or the same members), each group
    in id order: its first alert leads."""
    parent = {pk: pk for pk in ids}

    def root(pk: int) -> int:
        while parent[pk] != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    first_by: dict[object, int] = {}
    for pk in ids:
        keys = [("tx", tx_id) for tx_id in linked.get(pk, ())]
        keys.append(("members", frozenset(members[pk])))
        for key in keys:
            if key in first_by:
                parent[root(pk)] = root(first_by[key])
            else:
                first_by[key] = pk
    groups: dict[int, list[int]] = {}
    for pk in ids:
        groups.setdefault(root(pk), []).append(pk)
    return [sorted(group) for group in groups.values()]


def _rings_in_active_cases(
    alerts, members: dict[int, set[str]], linked: dict[int, set]
) -> dict[int, int]:
    """By alert id: the active case (lowest id) holding another ring alert linking one of its
    transactions or naming the same members. Two queries."""
    alerts = list(alerts)
    ids = [alert.pk for alert in alerts]
    in_active = CaseAlert.objects.filter(case__status__in=ACTIVE_STATUSES).exclude(alert_id__in=ids)
    ring_alert = Exists(AlertMember.objects.filter(alert_id=OuterRef("alert_id")))
    by_tx: dict = {}
    for tx_id, case_id in (
        AlertTransaction.objects.filter(
            transaction_id__in={tx for txs in linked.values() for tx in txs},
            alert_id__in=in_active.values("alert_id"),
        )
        .filter(ring_alert)
        .values_list("transaction_id", "alert__case_link__case_id")
    ):
        by_tx[tx_id] = min(case_id, by_tx.get(tx_id, case_id))
    named: dict[int, set[str]] = {}
    cases: dict[int, int] = {}
    for alert_id, account, case_id in AlertMember.objects.filter(
        alert__partner_id__in={alert.partner_id for alert in alerts},
        account_external_id__in={account for names in members.values() for account in names},
        alert_id__in=in_active.values("alert_id"),
    ).values_list("alert_id", "account_external_id", "alert__case_link__case_id"):
        named.setdefault(alert_id, set()).add(account)
        cases[alert_id] = case_id
    held: dict[int, int] = {}
    for alert in alerts:
        found = [by_tx[tx] for tx in linked.get(alert.pk, ()) if tx in by_tx]
        found += [cases[other] for other, names in named.items() if names == members[alert.pk]]
        if found:
            held[alert.pk] = min(found)
    return held


def linked_subject_cases(subjects) -> dict[tuple, int]:
    """By subject (partner, customer or "", account or ""): the active case it is linked to."""
    customers = {(p, c) for p, c, _ in subjects if c}
    accounts = {(p, a) for p, c, a in subjects if not c}
    if not customers and not accounts:
        return {}
    cover = Q(pk__in=[])
    if customers:
        cover |= Q(customer_external_id__in={c for _, c in customers})
    if accounts:
        cover |= Q(customer_external_id="", account_external_id__in={a for _, a in accounts})
    rows = CaseSubject.objects.filter(
        cover, active=True, partner_id__in={p for p, _, _ in subjects}
    )
    found = {}
    for partner_id, customer, account, case_id in rows.values_list(
        "partner_id", "customer_external_id", "account_external_id", "case_id"
    ):
        key = (partner_id, customer, "") if customer else (partner_id, "", account)
        if (customer and (partner_id, customer) in customers) or (
            not customer and (partner_id, account) in accounts
        ):
            found[key] = case_id
    return found
