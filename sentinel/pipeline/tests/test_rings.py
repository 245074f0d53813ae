"""Network rings end to end: beat's task scans each partner's window, and a ring found for the
first time becomes one alert, under its shape's ring rule, on its hub, naming every member and
transfer, taken into the hub's case; once, however often the scan runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.db import transaction as db_transaction

from alerts.choices import AlertEventType, AlertStatus
from alerts.models import Alert, AlertMember, AlertTransaction
from alerts.services import alert_dismiss
from cases.choices import Disposition
from cases.models import Case, CaseAlert, CaseSubject
from cases.services import case_claim, case_propose_closure
from cases.tests.factories import investigator
from rules.choices import RuleStatus
from rules.models import Rule
from rules.tests.factories import network_rules_live, only_these_rules
from rules.tests.factories import rule as a_rule
from sentinel.network.models import NetworkPattern
from sentinel.network.services import PatternGrowth
from sentinel.network.tests.graph import send
from sentinel.network.tests.graph import transfer as graph_transfer
from sentinel.pipeline import tasks
from sentinel.pipeline.orchestrator import transactions_process
from sentinel.pipeline.rings import RULE_FOR_PATTERN, network_rings_alert, rings_grow
from sentinel.testing import logged_in
from transactions.models import Transaction
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC).replace(microsecond=0)


def transfer(source: str, target: str, days_ago: float, amount: str = "900.00") -> dict:
    """source → target, the target being the partner's customer (reported as inbound)."""
    return transaction_payload(
        occurred_at=(NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z"),
        amount=amount,
        direction="inbound",
        originator={"account_id": source, "customer_id": f"c-{source}", "country": "US"},
        beneficiary={"account_id": target, "customer_id": f"c-{target}", "country": "US"},
    )


def load(partner, *payloads: dict) -> list:
    results = transactions_ingest(partner=partner, payloads=list(payloads))
    ids = [result.id for result in results]
    transactions_process(transaction_ids=ids)
    return ids


def fan_in(partner, hub: str = "HUB") -> list:
    """Five strangers pay the hub this week; the graph holds two months behind them."""
    load(partner, transfer("OLD", "SOMEONE", days_ago=60))
    return load(partner, *(transfer(f"{hub}-P{i}", hub, days_ago=3 - i / 10) for i in range(5)))


@pytest.fixture
def partner():
    network_rules_live()
    return PartnerBankFactory()


def test_beats_scan_raises_one_alert_on_the_rings_hub_naming_every_member(partner):
    ring = fan_in(partner)

    assert tasks.scan_network_rings.delay().get() >= 1  # one scan per active partner

    (alert,) = Alert.objects.filter(rule__code="network_fan_in")
    assert (alert.partner_id, alert.account_external_id) == (partner.pk, "HUB")
    assert alert.customer_external_id == "c-HUB"
    details = alert.events.get().parameters["details"]
    assert details["members"] == ["HUB", *(f"HUB-P{i}" for i in range(5))]
    assert set(details["transactions"]) == {str(tx_id) for tx_id in ring}
    # The alert carries the ring as rows: every member with its role, every transfer linked
    roles = dict(alert.members.values_list("account_external_id", "role"))
    assert roles == {"HUB": "hub", **{f"HUB-P{i}": "sender" for i in range(5)}}
    assert set(alert.links.values_list("transaction_id", flat=True)) == set(ring)
    assert (alert.amount_involved, alert.currency) == (Decimal("4500.00"), "USD")
    assert CaseAlert.objects.filter(alert=alert).exists()  # one case for the ring


def test_scanning_again_raises_nothing_more(partner):
    fan_in(partner)
    assert tasks.scan_network_window.delay(partner.pk).get() == 1

    assert tasks.scan_network_window.delay(partner.pk).get() == 0

    (alert,) = Alert.objects.filter(rule__code="network_fan_in")
    assert alert.occurrences == 1
    assert NetworkPattern.objects.count() == 1
    assert (alert.members.count(), alert.links.count()) == (6, 5)


def grow(partner, hub: str = "HUB", payers: int = 2) -> list:
    """More strangers pay the hub, a day after the first five."""
    return load(
        partner, *(transfer(f"{hub}-Q{i}", hub, days_ago=1 - i / 10) for i in range(payers))
    )


def test_a_ring_grown_under_a_draft_rule_raises_nothing_then_whole_once_the_rule_is_live(partner):
    # Given the fan-in rule a draft while its ring is found and grows
    draft = Rule.objects.filter(code="network_fan_in")
    draft.update(status=RuleStatus.DRAFT)
    first = fan_in(partner)
    assert network_rings_alert(partner_id=partner.pk).created == []
    second = grow(partner, payers=1)
    assert network_rings_alert(partner_id=partner.pk).created == []
    assert not Alert.objects.exists()

    # When the rule is live and the ring grows again
    draft.update(status=RuleStatus.LIVE)
    third = load(partner, transfer("HUB-R0", "HUB", days_ago=0.5))
    (alert,) = network_rings_alert(partner_id=partner.pk).created

    # Then its one alert takes the whole ring, everything it gathered as a draft's too
    assert alert.rule.code == "network_fan_in" and alert.account_external_id == "HUB"
    assert set(alert.links.values_list("transaction_id", flat=True)) == {
        *first,
        *second,
        *third,
    }
    assert set(alert.members.values_list("account_external_id", flat=True)) == {
        "HUB",
        *(f"HUB-P{i}" for i in range(5)),
        "HUB-Q0",
        "HUB-R0",
    }


def test_a_ring_grown_by_a_later_scan_grows_its_open_alert(partner):
    first = fan_in(partner)
    network_rings_alert(partner_id=partner.pk)
    (alert,) = Alert.objects.filter(rule__code="network_fan_in")
    later = grow(partner)

    changes = network_rings_alert(partner_id=partner.pk)

    assert (changes.created, [a.pk for a in changes.updated]) == ([], [alert.pk])
    alert.refresh_from_db()
    roles = dict(alert.members.values_list("account_external_id", "role"))
    assert roles == {
        "HUB": "hub",
        **{f"HUB-P{i}": "sender" for i in range(5)},
        "HUB-Q0": "sender",
        "HUB-Q1": "sender",
    }
    links = alert.links.all()
    assert {link.transaction_id for link in links} == {*first, *later}
    assert all(link.hit_id is None for link in links)
    assert alert.amount_involved == Decimal("6300.00")
    assert alert.last_seen_at == max(
        Transaction.objects.filter(pk__in=later).values_list("occurred_at", flat=True)
    )
    event = alert.events.get(type=AlertEventType.RING_GREW)
    assert event.parameters["members_added"] == ["HUB-Q0", "HUB-Q1"]
    assert "grew: 2 new accounts, 2 new transfers" in event.parameters["finding"]
    assert Alert.objects.filter(rule__code="network_fan_in").count() == 1  # still one per ring

    # The same ring again adds nothing
    again = network_rings_alert(partner_id=partner.pk)

    assert (again.created, again.updated) == ([], [])
    assert alert.events.filter(type=AlertEventType.RING_GREW).count() == 1
    assert (alert.members.count(), alert.links.count()) == (8, 7)


def test_a_ring_growing_scan_after_scan_keeps_one_alert_and_one_case_naming_everyone(partner):
    first = fan_in(partner)
    network_rings_alert(partner_id=partner.pk)
    later: list = []
    for scan in range(3):  # more strangers pay the hub between scans, as around a busy hub
        later += load(
            partner,
            *(transfer(f"HUB-D{scan}{i}", "HUB", days_ago=2 - scan / 2 - i / 10) for i in range(2)),
        )

        changes = network_rings_alert(partner_id=partner.pk)

        assert changes.created == [] and len(changes.updated) == 1

    (alert,) = Alert.objects.filter(rule__code="network_fan_in")
    (pattern,) = NetworkPattern.objects.all()
    roles = dict(alert.members.values_list("account_external_id", "role"))
    assert set(roles) == set(pattern.members) and len(roles) == 1 + 5 + 6
    assert roles["HUB"] == "hub" and set(roles.values()) == {"hub", "sender"}
    linked = list(alert.links.order_by("id").values_list("transaction_id", flat=True))
    assert linked[:5] == list(pattern.transactions[:5])  # in the ring's order, each once
    assert set(linked) == {*first, *later} == set(pattern.transactions)
    assert alert.amount_involved == Decimal("900.00") * 11
    grew = alert.events.filter(type=AlertEventType.RING_GREW).order_by("id")
    assert [e.parameters["members_added"] for e in grew] == [
        [f"HUB-D{scan}0", f"HUB-D{scan}1"] for scan in range(3)
    ]
    assert [e.parameters["transactions_added"] for e in grew] == [2, 2, 2]
    (case,) = Case.objects.all()  # the hub's, the ring's alert in it
    assert alert.case_link.case_id == case.pk


def test_a_ring_grown_twice_by_one_scan_grows_its_alert_once_with_both(partner):
    """Window rings of one shape around one hub merge into one pattern: a scan may report it
    grown twice, each growth holding the pattern as it ends the scan."""
    fan_in(partner)
    network_rings_alert(partner_id=partner.pk)
    (alert,) = Alert.objects.filter(rule__code="network_fan_in")
    (pattern,) = NetworkPattern.objects.all()
    first = grow(partner, payers=1)  # HUB-Q0 pays
    second = load(partner, transfer("HUB-Q1", "HUB", days_ago=0.5))
    pattern.members = sorted({*pattern.members, "HUB-Q0", "HUB-Q1"})
    pattern.transactions = [*pattern.transactions, *first, *second]
    pattern.save()

    grown, findings = rings_grow(
        [
            PatternGrowth(pattern, ("HUB-Q0",), tuple(first)),
            PatternGrowth(pattern, ("HUB-Q1",), tuple(second)),
        ]
    )

    assert (grown, findings) == ([alert], [])  # the first growth takes both, the second none
    assert set(alert.links.values_list("transaction_id", flat=True)) == set(pattern.transactions)
    assert set(alert.members.values_list("account_external_id", flat=True)) == set(pattern.members)
    (event,) = alert.events.filter(type=AlertEventType.RING_GREW)
    assert event.parameters["members_added"] == ["HUB-Q0", "HUB-Q1"]
    assert event.parameters["transactions_added"] == 2


def test_a_ring_grown_while_its_case_is_investigated_grows_the_alert_in_the_case(partner):
    fan_in(partner)
    network_rings_alert(partner_id=partner.pk)
    case = Case.objects.get()
    case_claim(case=case, actor=investigator("ivy"))
    (alert,) = Alert.objects.filter(rule__code="network_fan_in", status=AlertStatus.IN_CASE)
    grow(partner)

    network_rings_alert(partner_id=partner.pk)

    assert alert.members.count() == 8
    assert alert.events.filter(type=AlertEventType.RING_GREW).exists()
    assert Alert.objects.filter(rule__code="network_fan_in").count() == 1


def test_a_ring_that_grows_after_its_case_closed_raises_its_new_activity_anew(partner):
    fan_in(partner)
    network_rings_alert(partner_id=partner.pk)
    closed = Case.objects.get()
    ivy = investigator("ivy")
    case_claim(case=closed, actor=ivy)
    case_propose_closure(
        case=closed, actor=ivy, disposition=Disposition.NO_ACTION, reason="A charity appeal."
    )
    later = grow(partner)

    changes = network_rings_alert(partner_id=partner.pk)

    (fresh,) = changes.created
    earlier = Alert.objects.exclude(pk=fresh.pk).get(rule__code="network_fan_in")
    assert earlier.members.count() == 6  # the closed alert stays as it was closed
    roles = dict(fresh.members.values_list("account_external_id", "role"))
    assert roles == {"HUB": "hub", "HUB-Q0": "sender", "HUB-Q1": "sender"}
    assert set(fresh.links.values_list("transaction_id", flat=True)) == set(later)
    assert fresh.amount_involved == Decimal("1800.00")
    details = fresh.events.get().parameters["details"]
    assert (details["earlier_alert_id"], details["earlier_case_id"]) == (earlier.pk, closed.pk)
    new_case = fresh.case_link.case
    assert new_case.pk != closed.pk and new_case.is_active


def test_a_ring_that_grows_after_its_alert_was_dismissed_raises_a_new_alert(partner):
    fan_in(partner)
    network_rings_alert(partner_id=partner.pk)
    (alert,) = Alert.objects.filter(rule__code="network_fan_in")
    alert_dismiss(alert=alert, actor=investigator("ivy"), reason="Known crowdfunding.")
    grow(partner)

    changes = network_rings_alert(partner_id=partner.pk)

    (fresh,) = changes.created
    assert fresh.events.get().parameters["details"]["earlier_alert_id"] == alert.pk
    assert fresh.members.count() == 3


def test_a_ring_seen_again_in_another_shape_is_a_second_alert_in_the_hubs_case(partner):
    fan_in(partner)
    tasks.scan_network_window.delay(partner.pk).get()
    # Then the hub pays what it gathered on to five strangers: a gather-scatter
    payouts = [
        transaction_payload(
            occurred_at=(NOW - timedelta(days=1 - i / 10)).isoformat().replace("+00:00", "Z"),
            amount="800.00",
            direction="outbound",
            originator={"account_id": "HUB", "customer_id": "c-HUB", "country": "US"},
            beneficiary={"account_id": f"HUB-R{i}", "country": "US"},
        )
        for i in range(5)
    ]
    later = load(partner, *payouts)

    tasks.scan_network_window.delay(partner.pk).get()

    fan, scatter = (
        Alert.objects.get(rule__code="network_fan_in"),
        Alert.objects.get(rule__code="network_gather_scatter"),
    )
    roles = dict(scatter.members.values_list("account_external_id", "role"))
    assert roles["HUB"] == "hub" and roles["HUB-P0"] == "sender" and roles["HUB-R0"] == "receiver"
    assert set(later) <= set(scatter.links.values_list("transaction_id", flat=True))
    assert fan.case_link.case_id == scatter.case_link.case_id  # one case: the hub's


def test_a_ring_grown_in_another_shapes_ring_grows_only_its_own_alert(partner):
    fan_in(partner)
    network_rings_alert(partner_id=partner.pk)
    payouts = [
        transaction_payload(
            occurred_at=(NOW - timedelta(days=2 - i / 10)).isoformat().replace("+00:00", "Z"),
            amount="800.00",
            direction="outbound",
            originator={"account_id": "HUB", "customer_id": "c-HUB", "country": "US"},
            beneficiary={"account_id": f"HUB-R{i}", "country": "US"},
        )
        for i in range(5)
    ]
    load(partner, *payouts)
    network_rings_alert(partner_id=partner.pk)  # the gather-scatter, sharing the payers
    grow(partner)  # two more payers, sharing the hub with both rings

    network_rings_alert(partner_id=partner.pk)

    # The scan reports the hub as its most specific shape: the gather-scatter grows, the
    # fan-in (its payers shared) stays as raised, and no third alert opens
    scatter = Alert.objects.get(rule__code="network_gather_scatter")
    fan = Alert.objects.get(rule__code="network_fan_in")
    named = set(scatter.members.values_list("account_external_id", flat=True))
    assert {"HUB-Q0", "HUB-Q1"} <= named
    assert scatter.events.filter(type=AlertEventType.RING_GREW).exists()
    assert fan.members.count() == 6 and not fan.events.filter(type=AlertEventType.RING_GREW)
    assert Alert.objects.filter(rule__code__in=RULE_FOR_PATTERN.values()).count() == 2


def test_a_ring_rule_switched_off_keeps_the_ring_and_raises_no_alert(partner):
    Rule.objects.filter(code="network_fan_in").update(status=RuleStatus.PAUSED)
    fan_in(partner)

    assert tasks.scan_network_window.delay(partner.pk).get() == 0

    assert NetworkPattern.objects.filter(partner=partner, hub="HUB").exists()
    assert not Alert.objects.filter(rule__code="network_fan_in").exists()


def test_each_partner_gets_the_alerts_of_its_own_rings_only(partner):
    other = PartnerBankFactory()
    fan_in(partner, hub="MINE")
    load(other, *(transfer(f"X{i}", "THEIRS", days_ago=2) for i in range(3)))  # too few

    tasks.scan_network_rings.delay()

    alerts = Alert.objects.filter(rule__code__in=RULE_FOR_PATTERN.values())
    assert list(alerts.values_list("partner_id", "account_external_id")) == [(partner.pk, "MINE")]


def test_nothing_is_scanned_while_network_analytics_is_off(partner, settings):
    settings.SENTINEL_NETWORK_ANALYTICS = False
    fan_in(partner)

    assert tasks.scan_network_rings.delay().get() == 0
    assert not NetworkPattern.objects.exists()


def test_every_ring_shape_has_a_ring_rule_installed_and_beat_runs_the_scan(settings):
    installed = set(Rule.objects.values_list("code", flat=True))

    assert set(RULE_FOR_PATTERN.values()) <= installed
    entry = settings.CELERY_BEAT_SCHEDULE["scan-network-rings"]
    assert entry["task"] == "sentinel.pipeline.tasks.scan_network_rings"


# --- The scoring path's patterns (cycles, carried amounts, chains) -----------------------------


def test_a_cycle_rules_alert_carries_the_cycle_its_members_and_transfers(partner):
    ids = send(
        partner,
        graph_transfer("A", "B", "9000.00", hours=0),
        graph_transfer("B", "C", "8700.00", hours=20),
        graph_transfer("C", "D", "8650.00", hours=50),
        graph_transfer("D", "A", "8500.00", hours=90),
    )

    (alert,) = Alert.objects.filter(rule__code="network_cycle")
    assert alert.account_external_id == "D"  # the closing transfer's customer side
    roles = dict(alert.members.values_list("account_external_id", "role"))
    assert roles == {"D": "hub", "A": "intermediary", "B": "intermediary", "C": "intermediary"}
    links = {link.transaction_id: link.hit_id for link in alert.links.all()}
    assert set(links) == set(ids)
    assert links[ids[3]] is not None  # the hit
    assert all(links[tx_id] is None for tx_id in ids[:3])  # the cycle's other transfers
    assert alert.amount_involved == Decimal("34850.00")  # the cycle's total
    assert alert.occurrences == 1


def test_a_hit_of_a_rule_not_about_the_network_carries_no_ring(partner):
    only_these_rules(a_rule(code="big", expression="amount >= 8000"))
    send(
        partner,
        graph_transfer("A", "B", "9000.00", hours=0),
        graph_transfer("B", "C", "8700.00", hours=20),
        graph_transfer("C", "A", "8650.00", hours=50),
    )

    assert Alert.objects.filter(rule__code="big").count() == 3
    assert not AlertMember.objects.exists()
    assert not AlertTransaction.objects.filter(hit__isnull=True).exists()


def cycle_closed_by_two_customers(partner) -> list:
    """A pays B, B pays C, and C pays A: C reports it (outbound) and so does A (inbound), in
    separate batches; each closes the cycle for its own customer."""
    return send(
        partner,
        graph_transfer("A", "B", "9000.00", hours=0),
        graph_transfer("B", "C", "8800.00", hours=20),
        graph_transfer("C", "A", "8700.00", hours=50),
        graph_transfer("C", "A", "8700.00", hours=50, direction="inbound"),
    )


def test_a_cycle_closed_by_two_customers_transactions_is_one_case_with_both_alerts(partner):
    # A pays B, B pays C, and C pays A: C reports it (outbound) and so does A (inbound), in
    # separate batches. Each closes the cycle for its own customer.
    ids = send(
        partner,
        graph_transfer("A", "B", "9000.00", hours=0),
        graph_transfer("B", "C", "8800.00", hours=20),
        graph_transfer("C", "A", "8700.00", hours=50),
        graph_transfer("C", "A", "8700.00", hours=50, direction="inbound"),
    )

    alerts = Alert.objects.filter(rule__code="network_cycle").order_by("pk")
    assert [a.account_external_id for a in alerts] == ["C", "A"]  # one per customer side
    (case,) = Case.objects.all()  # one case for the ring
    assert set(case.alert_links.values_list("alert_id", flat=True)) == {a.pk for a in alerts}
    assert (case.customer_external_id, case.account_external_id) == ("c-C", "C")
    (linked,) = case.linked_subjects.all()
    assert (linked.customer_external_id, linked.account_external_id) == ("c-A", "A")
    assert linked.alert_id == alerts[1].pk
    opened, attached = case.events.order_by("pk").values_list("parameters", flat=True)[:2]
    assert attached["linked_subjects"] == ["c-A"]
    assert set(alerts[1].links.values_list("transaction_id", flat=True)) >= {ids[0], ids[1]}


def test_a_linked_subjects_later_alert_joins_the_ring_case(partner):
    only_these_rules(
        *Rule.objects.filter(code="network_cycle"), a_rule(code="big", expression="amount >= 50000")
    )
    cycle_closed_by_two_customers(partner)

    send(partner, graph_transfer("A", "Z", "60000.00", hours=60))  # A's own, unrelated

    (case,) = Case.objects.all()
    big = Alert.objects.get(rule__code="big")
    assert big.case_link.case_id == case.pk  # where A is investigated now


def test_the_database_links_a_subject_to_one_active_case_at_most(partner):
    cycle_closed_by_two_customers(partner)
    (linked,) = CaseSubject.objects.all()
    other = Case.objects.create(
        partner=partner, account_external_id="Z", due_at=NOW, customer_external_id="c-Z"
    )

    with pytest.raises(IntegrityError), db_transaction.atomic():
        CaseSubject.objects.create(
            case=other,
            partner=partner,
            customer_external_id="c-A",
            account_external_id="A",
            alert=linked.alert,
        )

    # Once the ring's case is closed, the subject is linked to no active case
    Case.objects.filter(pk=linked.case_id).update(
        status="closed", disposition="no_action", closed_at=NOW, assignee=investigator("ivy")
    )
    linked.refresh_from_db()
    assert not linked.active
    CaseSubject.objects.create(
        case=other,
        partner=partner,
        customer_external_id="c-A",
        account_external_id="A",
        alert=linked.alert,
    )


def test_each_members_page_and_the_queue_find_the_rings_one_case(partner):
    cycle_closed_by_two_customers(partner)
    (case,) = Case.objects.all()
    client = logged_in(investigator("ivy"))

    for account in ("A", "B", "C"):
        html = client.get(f"/accounts/{partner.pk}/{account}/").content.decode()
        assert f'href="/cases/{case.pk}/"' in html, account
    # A is not the case's subject (C is), yet its page lists the case among its subject's
    cases_of_a = client.get(f"/accounts/{partner.pk}/A/").content.decode()
    assert f'data-case-id="{case.pk}"' in cases_of_a.split('id="cases-heading"', 1)[1]
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/accounts/{partner.pk}/A/"' in page.split('id="linked-subjects"', 1)[1]
    # The queue's subject filter finds it by the linked customer as by its own
    queue = client.get("/cases/?subject=c-A").content.decode()
    assert re.findall(r'<tr data-case-id="(\d+)"', queue) == [str(case.pk)]
    assert (
        re.findall(r'<tr data-case-id="(\d+)"', client.get("/cases/?subject=c-B").content.decode())
        == []
    )


def test_two_rings_with_nothing_in_common_stay_two_cases(partner):
    cycle_closed_by_two_customers(partner)
    send(
        partner,
        graph_transfer("X", "Y", "7000.00", hours=100),
        graph_transfer("Y", "W", "6900.00", hours=110),
        graph_transfer("W", "X", "6800.00", hours=120),
    )

    cases = {
        alert.account_external_id: alert.case_link.case_id
        for alert in Alert.objects.filter(rule__code="network_cycle")
    }
    assert cases["A"] == cases["C"] != cases["W"]
    assert not CaseSubject.objects.filter(case_id=cases["W"]).exists()
