"""Reads of alerts, with their relations loaded up front (bounded queries per page)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from django.db import connection
from django.db.models import Case, Count, Prefetch, QuerySet, Value, When

from rules.choices import Severity, Typology
from sentinel.db import execute_with_records
from transactions.flows import money_flow_json, money_flow_start
from transactions.selectors import labels_prefetch

from .choices import AlertStatus, MemberRole
from .models import Alert, AlertEvent, AlertMember, AlertQueueView, AlertTransaction, Snooze

# The queue's sorts: name -> (label, keyset ordering). Each ends in the primary key and has an
# index in that order (newest and oldest ride the primary key: ids grow with creation), so a
# page of any of them is one index range at any depth.
QUEUE_SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "priority": ("Priority", ("-priority", "-last_seen_at", "-id")),
    "newest": ("Newest", ("-id",)),
    "oldest": ("Oldest", ("id",)),
    "severity": ("Severity", ("-severity_rank", "-priority", "-id")),
}


def alerts_list() -> QuerySet[Alert]:
    """Alerts with what a queue row shows: rule, partner, version, case. Their transaction
    ids come from ``alerts_with_latest_links`` once the page is cut."""
    return Alert.objects.select_related("rule", "partner", "rule_version", "case_link")


def alerts_queue() -> QuerySet[Alert]:
    """The alert queue's rows: what ``alerts_list`` loads, and the case's assignee."""
    return alerts_list().select_related("case_link__case__assignee")


def alert_queue_counts(
    queryset: QuerySet[Alert], *, severities: Sequence[str], statuses: Sequence[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """How many alerts each severity and each status would show, the other filters kept.

    ``queryset`` carries every filter but severity and status; one GROUP BY on both gives the
    two facets: a severity's count keeps the chosen statuses, a status's the chosen severities
    (none chosen: all)."""
    by_severity = dict.fromkeys(Severity.values, 0)
    by_status = dict.fromkeys(AlertStatus.values, 0)
    rows = queryset.order_by().values_list("severity", "status").annotate(n=Count("id"))
    for severity, status, count in rows:
        if not statuses or status in statuses:
            by_severity[severity] += count
        if not severities or severity in severities:
            by_status[status] += count
    return by_severity, by_status


def alert_queue_views(*, user) -> QuerySet[AlertQueueView]:
    """The user's own saved views of the queue, by name."""
    return AlertQueueView.objects.filter(user=user).order_by("name")


def alerts_as_messages() -> QuerySet[Alert]:
    """Alerts with just what the contract's alert object names of their relations (rule code,
    version number, partner slug, case id): the API list and the live frames, which render
    hundreds a batch, skip the rules' and versions' wide rows."""
    own = [field.name for field in Alert._meta.concrete_fields]
    return alerts_list().only(
        *own, "rule__code", "rule_version__number", "partner__slug", "case_link__case_id"
    )


# A queue row or a live frame names an alert's latest transactions, not all of them: an alert
# can gather thousands, and re-reading and re-sending them all on every hit made each update
# cost more than the last. ``occurrences`` counts them all; the detail lists them all.
LISTED_TRANSACTIONS = 200
_LATEST_LINKS = """
SELECT a.id, array_agg(l.transaction_id::text ORDER BY l.id)
FROM unnest(%s::bigint[]) AS a(id)
CROSS JOIN LATERAL (
    SELECT id, transaction_id FROM alerts_alerttransaction
    WHERE alert_id = a.id ORDER BY id DESC LIMIT %s
) AS l
GROUP BY a.id
"""


def alerts_with_latest_links(alerts: Sequence[Alert]) -> Sequence[Alert]:
    """Give each alert ``latest_transaction_ids``: the transactions of its latest
    LISTED_TRANSACTIONS links, in link order (one query, an index walk of that many rows per
    alert whatever the alert's size; plain strings, as frames and queue rows show them)."""
    by_id = {alert.pk: alert for alert in alerts}
    for alert in alerts:
        alert.latest_transaction_ids = []
    if by_id:
        with connection.cursor() as cursor:
            cursor.execute(_LATEST_LINKS, [list(by_id), LISTED_TRANSACTIONS])
            for alert_id, transaction_ids in cursor.fetchall():
                by_id[alert_id].latest_transaction_ids = transaction_ids
    return alerts


def alert_links_detail() -> QuerySet[AlertTransaction]:
    """Alert links with their transaction, labels and hit (none for a ring's transfer), in
    time order: what the alert and case pages list."""
    return (
        AlertTransaction.objects.select_related("transaction", "hit__rule", "hit__rule_version")
        .prefetch_related(labels_prefetch("transaction__"))
        .order_by("transaction__occurred_at", "id")
    )


def alert_members() -> QuerySet[AlertMember]:
    """A ring's members, hub first, then by role and account."""
    hub_first = Case(When(role=MemberRole.HUB, then=Value(0)), default=Value(1))
    return AlertMember.objects.order_by(hub_first, "role", "account_external_id")


def alerts_detail() -> QuerySet[Alert]:
    """Alerts with their hits (explanations), transactions, ring members and history."""
    return Alert.objects.select_related(
        "rule", "partner", "rule_version", "case_link"
    ).prefetch_related(
        Prefetch("links", queryset=alert_links_detail()),
        Prefetch("members", queryset=alert_members()),
        Prefetch("events", queryset=AlertEvent.objects.select_related("actor")),
    )


def alert_feed(*, user, limit: int = 50) -> tuple[list[Alert], int]:
    """The investigator's home feed: the newest alerts and how many are open, for users who
    may see alerts (nothing otherwise)."""
    if not user.has_perm("alerts.view_alert"):
        return [], 0
    newest = list(alerts_list().order_by("-pk")[:limit])
    return newest, Alert.objects.open().count()


def snoozes_list() -> QuerySet[Snooze]:
    """Snoozes with their rule, partner, people and how many hits each silenced."""
    return Snooze.objects.select_related(
        "rule", "partner", "created_by", "lifted_by", "approved_by"
    ).annotate(hits_silenced=Count("hits"))


def alert_money_flow(alert: Alert) -> dict:
    """The money-flow view's start: the alert's transactions (prefetched by ``alerts_detail``)
    and their two parties (transactions.flows), its ring's transfers drawn as the pattern."""
    transactions = [link.transaction for link in alert.links.all()]
    ring, roles = alerts_ring([alert])
    flow = money_flow_start(
        partner=alert.partner, transactions=transactions, ring=ring, roles=roles
    )
    return money_flow_json(flow)


def alerts_ring(alerts: Sequence[Alert]) -> tuple[set, dict[str, str]]:
    """The ring transfers (transaction ids) of these alerts and their members' roles by
    account, from their prefetched links and members. An account of two rings keeps the
    hub's role, else one of them (the view draws one role a node)."""
    ring = {link.transaction_id for a in alerts for link in a.links.all() if link.hit_id is None}
    roles: dict[str, str] = {}
    for alert in alerts:
        for member in alert.members.all():
            if roles.get(member.account_external_id) != MemberRole.HUB:
                roles[member.account_external_id] = member.role
    return ring, roles


def alert_list_parties(alert: Alert) -> list[tuple[str, str]]:
    """(name, country) of the parties to check against the lists, for an alert of a list-hit
    rule: those of its transactions and of the findings that raised it, each once."""
    if Typology.LIST_HIT not in (alert.rule_version.typologies or []):
        return []
    parties: dict[tuple[str, str], None] = {}
    for event in alert.events.all():
        details = event.parameters.get("details") or {}
        if details.get("party_name"):
            parties[(details["party_name"], details.get("party_country", ""))] = None
    for link in alert.links.all():
        tx = link.transaction
        for name, country in (
            (tx.originator_name, tx.originator_country),
            (tx.beneficiary_name, tx.beneficiary_country),
        ):
            if name:
                parties[(name, country)] = None
    return list(parties)[:MAX_LIST_PARTIES]


MAX_LIST_PARTIES = 20


@dataclass(frozen=True)
class RingSubject:
    """A ring as its alerts know it: the rule it is raised under, its hub (the alerts'
    subject) and transfers it had (``key`` is the caller's)."""

    key: int
    rule_code: str
    partner_id: int
    account_external_id: str
    transaction_ids: list[UUID]
    # Of those, the ones no alert is expected to link yet (left out of ``links_all``).
    pending: list[UUID] = field(default_factory=list)


# Per ring: the subject's alerts under the rule, newest first (alert_subject_recent), the
# first linking without a hit one of the ring's transfers (alert_transaction_once, stopping at
# the first found); and whether that alert links all of them: a probe of that index per
# transfer (OFFSET 0 keeps the planner from making it an anti-join, which it may run as a
# nested loop over all the alert's links per transfer when its statistics lag the links).
# The transfers travel as one JSON document.
_RING_ALERTS_LATEST = """
SELECT w.key, latest.id,
       NOT EXISTS (
           SELECT 1 FROM unnest(w.transactions) AS b(id)
           WHERE b.id <> ALL(w.pending) AND NOT EXISTS (
               SELECT 1 FROM alerts_alerttransaction l
               WHERE l.alert_id = latest.id AND l.transaction_id = b.id
               OFFSET 0
           )
       )
FROM jsonb_to_recordset(%s::jsonb)
    AS w(key bigint, rule_code text, partner_id bigint, account text, transactions uuid[],
        pending uuid[])
CROSS JOIN LATERAL (
    SELECT a.id
    FROM alerts_alert a
    JOIN rules_rule r ON r.id = a.rule_id
    WHERE r.code = w.rule_code AND a.partner_id = w.partner_id
      AND a.account_external_id = w.account
      AND EXISTS (
          SELECT 1 FROM alerts_alerttransaction l
          WHERE l.alert_id = a.id AND l.hit_id IS NULL AND l.transaction_id = ANY(w.transactions)
      )
    ORDER BY a.id DESC
    LIMIT 1
) AS latest
"""


@dataclass(frozen=True)
class RingAlert:
    """The alert raised on a ring, and whether it links every transfer it was asked about."""

    alert_id: int
    links_all: bool


# Per (rule code, partner, account) asked: whether any alert under that rule is on that account,
# an index probe each (alert_subject_recent leads with the three; EXISTS stops at the first, so
# a hub's many alerts are not read). The tuples travel as one JSON document: the statement is
# the same for any number of them.
_RING_ALERT_SUBJECTS = """
SELECT w.rule_code, w.partner_id, w.account
FROM jsonb_to_recordset(%s::jsonb) AS w(rule_code text, partner_id bigint, account text)
WHERE EXISTS (
    SELECT 1
    FROM alerts_alert a
    JOIN rules_rule r ON r.id = a.rule_id
    WHERE r.code = w.rule_code AND a.partner_id = w.partner_id
      AND a.account_external_id = w.account
)
"""


def ring_alert_subjects(*, subjects: Iterable[tuple[str, int, str]]) -> set[tuple[str, int, str]]:
    """Of these (rule code, partner id, account), those with any alert under that rule on that
    account: only their rings can have an alert for ``ring_alerts_latest`` to find, so the
    others need not gather their transfers to ask (a re-scan grows every ring each day, most
    of them under draft rules that never raised one). One query, matching whole tuples: a row
    back per subject with an alert, none for one without (until December 2026 three
    independent ``IN`` lists read every alert of any asked rule, partner and account, and
    Python kept the tuples asked)."""
    wanted = set(subjects)
    if not wanted:
        return set()
    records = [
        {"rule_code": code, "partner_id": partner_id, "account": account}
        for code, partner_id, account in wanted
    ]
    return {tuple(row) for row in execute_with_records(_RING_ALERT_SUBJECTS, records)}


def ring_alerts_latest(*, subjects: Sequence[RingSubject]) -> dict[int, RingAlert]:
    """By ``key``: the latest alert under the ring's rule, on its hub, linking (as a ring
    transfer, not a hit) one of its transfers, and whether it links them all (``pending``
    aside); rings with none
    are left out. One query, whatever the rings' sizes, reading no link row back."""
    if not subjects:
        return {}
    records = [
        {
            "key": subject.key,
            "rule_code": subject.rule_code,
            "partner_id": subject.partner_id,
            "account": subject.account_external_id,
            # UUIDs as they are: orjson writes them in C (a str() each cost more than the query)
            "transactions": list(dict.fromkeys(subject.transaction_ids)),
            "pending": list(subject.pending),
        }
        for subject in subjects
    ]
    rows = execute_with_records(_RING_ALERTS_LATEST, records)
    return {key: RingAlert(alert_id, links_all) for key, alert_id, links_all in rows}
