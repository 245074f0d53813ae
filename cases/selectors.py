"""Reads of cases, with their relations loaded up front (bounded queries per page)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import Permission
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse

from alerts.models import Alert, AlertMember, AlertTransaction
from alerts.selectors import alert_links_detail, alert_members, alerts_ring
from rules.choices import Typology
from transactions.flows import money_flow_json, money_flow_start
from transactions.models import Account, Customer, PartnerBank, Transaction
from transactions.selectors import labels_prefetch

from .models import (
    Case,
    CaseAlert,
    CaseEvent,
    CaseNote,
    CaseSubject,
    SuspiciousActivityReport,
)


def cases_queue() -> QuerySet[Case]:
    """Cases with what a queue row shows; rule codes and alert counts come from
    ``cases_with_alert_summary`` for the page only."""
    return Case.objects.select_related("partner", "assignee", "team")


def cases_with_alert_summary(cases: Sequence[Case]) -> list[Case]:
    """Set ``alert_count`` and ``rule_codes`` on each case of a page: one query in all."""
    counts: dict[int, int] = defaultdict(int)
    rules: dict[int, set[str]] = defaultdict(set)
    # The rule code through a subquery per link: as a join, the planner misjudges how few
    # links a page has and reads the whole alert table (15 ms at 100,000 alerts, growing).
    code = Alert.objects.filter(pk=OuterRef("alert_id")).order_by().values("rule__code")[:1]
    rows = (
        CaseAlert.objects.filter(case_id__in=[case.pk for case in cases])
        .order_by()
        .annotate(code=Subquery(code))
        .values_list("case_id", "code")
        .annotate(n=Count("id"))
    )
    for case_id, code, n in rows:
        counts[case_id] += n
        rules[case_id].add(code)
    for case in cases:
        case.alert_count = counts[case.pk]
        case.rule_codes = sorted(rules[case.pk])
    return list(cases)


def case_detail() -> QuerySet[Case]:
    """A case with its alerts (hits, explanations, transactions, ring members), notes, files
    and history."""
    alerts = Alert.objects.select_related("rule", "rule_version", "partner").prefetch_related(
        Prefetch("links", queryset=alert_links_detail()),
        Prefetch("members", queryset=alert_members()),
    )
    return cases_queue().prefetch_related(
        Prefetch(
            "alert_links",
            queryset=CaseAlert.objects.prefetch_related(
                Prefetch("alert", queryset=alerts)
            ).order_by("id"),
        ),
        Prefetch(
            "events",
            queryset=CaseEvent.objects.select_related("actor").order_by("created_at", "id"),
        ),
        Prefetch("notes", queryset=CaseNote.objects.select_related("author")),
        "linked_subjects",
        "attachments__uploaded_by",
        "proposed_by",
    )


@dataclass(frozen=True)
class SubjectProfile:
    customer: Customer | None
    accounts: list[Account]
    risk_rating: str


def case_subject(case: Case) -> SubjectProfile:
    """The subject's customer record and accounts with their profiles (two queries)."""
    customer = None
    if case.customer_external_id:
        customer = Customer.objects.filter(
            partner_id=case.partner_id, external_id=case.customer_external_id
        ).first()
    accounts = Account.objects.select_related("profile").filter(partner_id=case.partner_id)
    if customer is not None:
        accounts = accounts.filter(customer=customer)
    else:
        accounts = accounts.filter(external_id=case.account_external_id)
    accounts = list(accounts.order_by("external_id")[:50])
    ratings = [a.profile.risk_rating for a in accounts if hasattr(a, "profile")]
    order = {"low": 0, "medium": 1, "high": 2}
    rating = max(ratings, key=lambda r: order.get(r, 0)) if ratings else "low"
    return SubjectProfile(customer=customer, accounts=accounts, risk_rating=rating)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "transaction", "alert" or "event"
    item: object


def case_timeline(case: Case) -> list[TimelineEntry]:
    """Transactions, alerts and history of a prefetched case (``case_detail``), newest first."""
    entries: list[TimelineEntry] = []
    seen: set = set()
    for link in case.alert_links.all():
        alert = link.alert
        entries.append(TimelineEntry(alert.created_at, "alert", alert))
        for hit in alert.links.all():
            if hit.transaction_id not in seen:
                seen.add(hit.transaction_id)
                entries.append(TimelineEntry(hit.transaction.occurred_at, "transaction", hit))
    entries += [TimelineEntry(event.created_at, "event", event) for event in case.events.all()]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries


def case_transactions(case: Case) -> list[dict]:
    """Each transaction of the case once, with the hits (rule, explanation) that flagged it
    and the ring alerts it is one of the transfers of."""
    rows: dict = {}
    for link in case.alert_links.all():
        for hit in link.alert.links.all():
            row = rows.setdefault(
                hit.transaction_id, {"transaction": hit.transaction, "hits": [], "rings": []}
            )
            if hit.hit is not None:
                row["hits"].append(hit.hit)
            else:
                row["rings"].append(link.alert)
    return sorted(rows.values(), key=lambda row: row["transaction"].occurred_at, reverse=True)


def case_rings(case: Case) -> list[Alert]:
    """The case's alerts raised on a ring (with members), from the prefetched case."""
    return [link.alert for link in case.alert_links.all() if link.alert.members.all()]


def case_money_flow(case: Case) -> dict:
    """The money-flow view's start: the case's alerted transactions (prefetched by
    ``case_detail``) and their two parties (transactions.flows), the transfers of its rings
    drawn as the pattern."""
    transactions = [row["transaction"] for row in case_transactions(case)]
    ring, roles = alerts_ring([link.alert for link in case.alert_links.all()])
    flow = money_flow_start(partner=case.partner, transactions=transactions, ring=ring, roles=roles)
    return money_flow_json(flow)


def case_typologies(case: Case) -> list[str]:
    """The typologies of the rule versions that raised the case's alerts (for the SAR)."""
    rows = Alert.objects.filter(case_link__case=case).values_list(
        "rule_version__typologies", flat=True
    )
    return sorted({typology for typologies in rows for typology in typologies or ()})


def transactions_of(case: Case) -> QuerySet[Transaction]:
    """The case's transactions as a queryset (for exports such as the SAR)."""
    return Transaction.objects.filter(
        pk__in=AlertTransaction.objects.filter(alert__case_link__case=case).values("transaction_id")
    )


def case_workers() -> QuerySet:
    """Active staff who may work cases (the choices of an assignment)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    work = Permission.objects.filter(codename="work_case", content_type__app_label="cases")
    holders = (
        Q(is_superuser=True)
        | Q(groups__in=Group.objects.filter(permissions__in=work))
        | Q(user_permissions__in=work)
    )
    users = get_user_model().objects.filter(holders, is_active=True, is_staff=True)
    return users.distinct().order_by("username")


def case_sar(case: Case) -> dict | None:
    """The case's SAR draft for its page: the report, a summary of the document, the files."""
    from .sar import SarDocument

    report = SuspiciousActivityReport.objects.filter(case=case).select_related("updated_by").first()
    if report is None:
        return None

    document = SarDocument.from_dict(report.document)
    chosen = {indicator.typology for indicator in document.indicators}
    return {
        "report": report,
        "document": document,
        "files": list(report.files.select_related("created_by")),
        "typologies": [(value, label, value in chosen) for value, label in Typology.choices],
    }


def case_linked_graph(case: Case) -> dict:
    """Accounts and customers within two hops of the subject (180 days), for the graph;
    each node links to its own active case when it has one, else to its admin page."""
    from datetime import timedelta

    from django.utils import timezone

    from .linked import linked_entities, linked_graph_json

    graph = linked_entities(
        partner=case.partner,
        customer_external_id=case.customer_external_id or None,
        account_external_id=None if case.customer_external_id else case.account_external_id,
        since=timezone.now() - timedelta(days=180),
    )
    customers = {node.key for node in graph.nodes if node.kind == "customer"}
    accounts = {node.key for node in graph.nodes if node.kind == "account"}
    cases = Case.objects.filter(partner_id=case.partner_id).filter(
        Q(customer_external_id__in=customers) | Q(account_external_id__in=accounts)
    )
    by_customer, by_account = {}, {}
    for pk, customer, account in cases.order_by("-created_at").values_list(
        "pk", "customer_external_id", "account_external_id"
    ):
        if customer:
            by_customer.setdefault(customer, pk)
        by_account.setdefault(account, pk)
    for node in graph.nodes:
        found = (by_customer if node.kind == "customer" else by_account).get(node.key)
        if found is not None and node.kind in ("customer", "account"):
            node.url = reverse("cases:detail", kwargs={"pk": found})
    return linked_graph_json(graph)


# --- Account page ------------------------------------------------------------------------------

ACCOUNT_PAGE_ROWS = 50  # alerts, cases and rings listed on an account's page, newest first


@dataclass(frozen=True)
class AccountPage:
    """What an investigator sees of one account of a partner: the account (None for an
    outside counterparty, known only from transactions or rings), its alerts, the cases of
    its subject, and the rings it is a member of (``AlertMember``, each with its alert)."""

    partner: PartnerBank
    external_id: str
    account: Account | None
    alerts: list[Alert]
    cases: list[Case]
    rings: list[AlertMember]


def account_page(*, partner: PartnerBank, external_id: str) -> AccountPage | None:
    """The account's page, or None when the partner has never seen it: no account on record,
    no transaction naming it and no ring naming it (another partner's account is unknown
    here). Six queries at most, however many alerts, cases and rings it has."""
    account = (
        Account.objects.select_related("customer", "profile")
        .filter(partner=partner, external_id=external_id)
        .first()
    )
    members = (
        AlertMember.objects.filter(alert__partner=partner, account_external_id=external_id)
        .select_related("alert__rule", "alert__case_link__case")
        .annotate(
            ring_size=_count_of(AlertMember.objects.all()),
            ring_transfers=_count_of(AlertTransaction.objects.filter(hit__isnull=True)),
        )
        .order_by("-alert__last_seen_at", "-alert_id")
    )
    rings = list(members[:ACCOUNT_PAGE_ROWS])
    if account is None and not rings and not _named_by_transactions(partner, external_id):
        return None
    alerts = (
        Alert.objects.filter(partner=partner, account_external_id=external_id)
        .select_related("rule", "case_link__case")
        .order_by("-last_seen_at", "-id")
    )
    subject = Q(account_external_id=external_id, customer_external_id="")
    if account is not None and account.customer_id is not None:
        subject |= Q(customer_external_id=account.customer.external_id)
    # And the ring cases its subject is linked to (one case per ring: docs/cases.md).
    linked = CaseSubject.objects.filter(subject, partner=partner).values("case_id")
    cases = Case.objects.filter(
        Q(subject, partner=partner) | Q(pk__in=linked, partner=partner)
    ).select_related("assignee")
    return AccountPage(
        partner=partner,
        external_id=external_id,
        account=account,
        alerts=list(alerts[:ACCOUNT_PAGE_ROWS]),
        cases=list(cases.order_by("-created_at", "-id")[:ACCOUNT_PAGE_ROWS]),
        rings=rings,
    )


def _count_of(rows: QuerySet) -> Subquery:
    """How many of ``rows`` belong to the outer row's alert (a count per ring, in the query)."""
    counted = rows.filter(alert_id=OuterRef("alert_id")).order_by().values("alert_id")
    return Subquery(counted.annotate(n=Count("id")).values("n")[:1])


def _named_by_transactions(partner: PartnerBank, external_id: str) -> bool:
    """Whether a transaction of the partner names the account on either side (two index
    probes: tx_partner_originator_time, tx_partner_beneficiary_time)."""
    moved = Transaction.objects.filter(partner=partner)
    return (
        moved.filter(originator_account_id=external_id).exists()
        or moved.filter(beneficiary_account_id=external_id).exists()
    )


def account_transactions(*, partner: PartnerBank, external_id: str) -> QuerySet[Transaction]:
    """The account's transactions, either side, newest first (keyset pages on
    (occurred_at, id)), with their labels."""
    return (
        Transaction.objects.filter(partner=partner)
        .filter(Q(originator_account_id=external_id) | Q(beneficiary_account_id=external_id))
        .prefetch_related(labels_prefetch())
        .order_by("-occurred_at", "-id")
    )
