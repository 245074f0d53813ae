"""Network rings end to end: beat's task scans each partner's window, and a ring found for the
first time becomes one alert, under its shape's ring rule, on its hub, naming every member and
transfer, taken into the hub's case; once, however often the scan runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from alerts.models import Alert, AlertMember, AlertTransaction
from cases.models import CaseAlert
from rules.choices import RuleStatus
from rules.models import Rule
from rules.tests.factories import network_rules_live, only_these_rules
from rules.tests.factories import rule as a_rule
from sentinel.network.models import NetworkPattern
from sentinel.network.tests.graph import send
from sentinel.network.tests.graph import transfer as graph_transfer
from sentinel.pipeline import tasks
from sentinel.pipeline.orchestrator import transactions_process
from sentinel.pipeline.rings import RULE_FOR_PATTERN
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
