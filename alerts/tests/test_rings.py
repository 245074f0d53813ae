"""Alerts that carry a ring: members and transfers as rows (alerts.services.rings), and what
the database keeps true of them."""

from __future__ import annotations

import importlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction

from alerts.choices import AlertEventType, AlertStatus, MemberRole
from alerts.models import Alert, AlertMember, AlertTransaction
from alerts.selectors import RingAlert, RingSubject, ring_alert_subjects, ring_alerts_latest
from alerts.services import (
    Finding,
    Ring,
    RingGrowth,
    alert_ring_grow,
    alerts_from_findings,
    alerts_ring_grow,
)
from rules.tests.factories import network_rules_live
from transactions.models import Transaction
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)


@pytest.fixture
def partner():
    network_rules_live()
    return PartnerBankFactory()


def paid(partner, source: str, target: str, *, hours: float, amount="1000.00", currency="USD"):
    """One stored transfer (ingested, not scored: the ring service reads rows only)."""
    payload = transaction_payload(
        occurred_at=(START + timedelta(hours=hours)).isoformat().replace("+00:00", "Z"),
        amount=amount,
        currency=currency,
        direction="inbound",
        originator={"account_id": source},
        beneficiary={"account_id": target, "customer_id": f"c-{target}"},
    )
    (result,) = transactions_ingest(partner=partner, payloads=[payload])
    return Transaction.objects.get(pk=result.id)


def ring_finding(partner, hub: str, transfers: list, rule_code: str = "network_fan_in"):
    members = sorted(
        {a for tx in transfers for a in (tx.originator_account_id, tx.beneficiary_account_id)}
        | {hub}
    )
    return Finding(
        rule_code=rule_code,
        partner_id=partner.pk,
        account_external_id=hub,
        customer_external_id=f"c-{hub}",
        summary=f"Fan-in: account {hub}",
        details={"members": members},
        ring=Ring(hub=hub, members=tuple(members), transaction_ids=tuple(t.pk for t in transfers)),
    )


def fan_in(partner, hub="H", senders=("S1", "S2", "S3"), hours=0.0, amount="1000.00"):
    return [
        paid(partner, sender, hub, hours=hours + n, amount=amount)
        for n, sender in enumerate(senders)
    ]


# --- The service ------------------------------------------------------------------------------


def test_a_ring_alert_names_every_member_and_links_every_transfer(partner):
    transfers = fan_in(partner)

    changes = alerts_from_findings(findings=[ring_finding(partner, "H", transfers)])

    (alert,) = changes.created
    members = dict(alert.members.values_list("account_external_id", "role"))
    assert members == {"H": "hub", "S1": "sender", "S2": "sender", "S3": "sender"}
    links = alert.links.all()
    assert {link.transaction_id for link in links} == {tx.pk for tx in transfers}
    assert all(link.hit_id is None and not link.suppressed for link in links)
    # Its amount is the ring's total, its times the ring's first and last transfer
    assert (alert.amount_involved, alert.currency) == (Decimal("3000.00"), "USD")
    assert alert.first_seen_at == transfers[0].occurred_at
    assert alert.last_seen_at == transfers[-1].occurred_at


def test_a_pass_through_account_is_an_intermediary_and_a_payee_a_receiver(partner):
    transfers = [
        paid(partner, "S1", "H", hours=0),
        paid(partner, "H", "M", hours=1),
        paid(partner, "M", "R", hours=2),
    ]

    (alert,) = alerts_from_findings(
        findings=[ring_finding(partner, "H", transfers, "network_gather_scatter")]
    ).created

    assert dict(alert.members.values_list("account_external_id", "role")) == {
        "H": "hub",
        "S1": "sender",
        "M": "intermediary",
        "R": "receiver",
    }


def test_the_same_ring_again_adds_no_member_and_no_transfer(partner):
    transfers = fan_in(partner)
    finding = ring_finding(partner, "H", transfers)
    alerts_from_findings(findings=[finding])

    alerts_from_findings(findings=[finding])

    alert = Alert.objects.get()
    assert alert.occurrences == 2  # a finding again, as the findings service counts them
    assert alert.members.count() == 4
    assert alert.links.count() == 3
    assert alert.amount_involved == Decimal("3000.00")


def test_another_ring_on_the_same_hub_grows_its_open_alert(partner):
    first = fan_in(partner)
    alerts_from_findings(findings=[ring_finding(partner, "H", first)])
    # S1 paid H before; now H also pays S1 (S1 passes money through) and two new payers
    second = [
        paid(partner, "H", "S1", hours=10, amount="500.00"),
        paid(partner, "S4", "H", hours=11, amount="500.00"),
        paid(partner, "S5", "H", hours=12, amount="500.00", currency="EUR"),
    ]

    changes = alerts_from_findings(findings=[ring_finding(partner, "H", second)])

    (alert,) = changes.updated
    assert Alert.objects.count() == 1
    roles = dict(alert.members.values_list("account_external_id", "role"))
    assert roles["S1"] == MemberRole.INTERMEDIARY
    assert roles["H"] == MemberRole.HUB and roles["S4"] == roles["S5"] == MemberRole.SENDER
    assert alert.links.count() == 6
    # The euros are linked, not added to dollars
    assert alert.amount_involved == Decimal("4000.00")
    assert alert.last_seen_at == second[-1].occurred_at


def test_a_second_ring_names_and_links_what_is_new_in_its_own_order(partner):
    # Given H's alert on S1 and S2 paying it, and R paid by it
    first = [paid(partner, "S1", "H", hours=0), paid(partner, "S2", "H", hours=1)]
    first.append(paid(partner, "H", "R", hours=2))
    alerts_from_findings(findings=[ring_finding(partner, "H", first)])
    # When a second ring on H names its members and transfers in an order of its own: S1 is
    # paid back (an intermediary now), R pays (likewise), S2 only pays again, two newcomers
    later = [
        paid(partner, "Z", "H", hours=10, amount="200.00"),
        paid(partner, "H", "S1", hours=11, amount="500.00"),
        paid(partner, "R", "H", hours=12, amount="50.00"),
        paid(partner, "A", "H", hours=13, amount="300.00", currency="EUR"),
        paid(partner, "S2", "H", hours=14, amount="20.00"),
    ]
    order = [later[3], first[1], later[0], later[2], later[1], later[4]]  # one linked already
    ring = Ring(
        hub="H",
        members=("Z", "S1", "R", "A", "S2"),
        transaction_ids=tuple(tx.pk for tx in order),
    )
    finding = replace(ring_finding(partner, "H", order), ring=ring)
    (alert,) = alerts_from_findings(findings=[finding]).updated

    # Then the newcomers join in the ring's order, the old members' roles merge
    members = alert.members.order_by("pk").values_list("account_external_id", "role")
    assert list(members) == [
        ("H", "hub"),
        ("R", "intermediary"),  # paid, then paid the hub
        ("S1", "intermediary"),  # paid the hub, then paid back
        ("S2", "sender"),
        ("Z", "sender"),
        ("A", "sender"),
    ]
    # And the transfers not linked yet are linked in the ring's order, the dollars counted
    links = alert.links.order_by("pk").values_list("transaction_id", flat=True)
    fresh = [later[3], later[0], later[2], later[1], later[4]]
    assert list(links) == [tx.pk for tx in (*first, *fresh)]
    assert alert.amount_involved == Decimal("3770.00")


def test_a_ring_of_another_partners_transfers_links_none_of_them(partner):
    theirs = fan_in(PartnerBankFactory())

    (alert,) = alerts_from_findings(findings=[ring_finding(partner, "H", theirs)]).created

    assert not alert.links.exists()
    assert alert.amount_involved == 0
    assert alert.members.filter(role=MemberRole.HUB).exists()


def test_a_ring_rule_not_live_names_no_member(partner):
    from rules.models import Rule

    Rule.objects.filter(code="network_fan_in").update(status="paused")

    alerts_from_findings(findings=[ring_finding(partner, "H", fan_in(partner))])

    assert not AlertMember.objects.exists()
    assert not AlertTransaction.objects.exists()


# --- The model ----------------------------------------------------------------------------------


# --- A ring that grows (alert_ring_grow) -------------------------------------------------------


def grown_ring(hub: str, transfers: list) -> Ring:
    return ring_finding(transfers[0].partner, hub, transfers).ring


def test_a_grown_ring_adds_its_new_members_transfers_amount_and_time(partner):
    first = fan_in(partner)
    (alert,) = alerts_from_findings(findings=[ring_finding(partner, "H", first)]).created
    # Later, S1 is paid back by the hub and a fourth stranger pays in
    later = [paid(partner, "H", "S1", hours=30), paid(partner, "S4", "H", hours=31)]

    grown, changed = alert_ring_grow(
        alert_id=alert.pk,
        ring=grown_ring("H", [*first, *later]),
        summary="Fan-in grew",
        details={"members_added": ["S4"]},
    )

    assert changed
    roles = dict(grown.members.values_list("account_external_id", "role"))
    assert roles == {
        "H": "hub",
        "S1": "intermediary",
        "S2": "sender",
        "S3": "sender",
        "S4": "sender",
    }
    links = grown.links.all()
    assert {link.transaction_id for link in links} == {tx.pk for tx in [*first, *later]}
    assert all(link.hit_id is None for link in links)
    assert grown.amount_involved == Decimal("5000.00")
    assert grown.last_seen_at == later[-1].occurred_at
    assert grown.occurrences == 1  # growth is the same ring, not a new occurrence
    event = grown.events.get(type=AlertEventType.RING_GREW)
    assert event.parameters["members_added"] == ["S4"]
    assert event.parameters["transactions_added"] == 2


def test_growing_with_nothing_new_changes_nothing(partner):
    transfers = fan_in(partner)
    (alert,) = alerts_from_findings(findings=[ring_finding(partner, "H", transfers)]).created

    grown = alert_ring_grow(
        alert_id=alert.pk, ring=grown_ring("H", transfers), summary="again", details={}
    )

    assert grown == (alert, False)
    assert not alert.events.filter(type=AlertEventType.RING_GREW).exists()


def test_a_closed_ring_alert_is_not_grown(partner):
    transfers = fan_in(partner)
    (alert,) = alerts_from_findings(findings=[ring_finding(partner, "H", transfers)]).created
    Alert.objects.filter(pk=alert.pk).update(
        status=AlertStatus.DISMISSED, dismiss_reason="Known", triaged_at=START
    )
    later = [paid(partner, "S4", "H", hours=31)]

    grown = alert_ring_grow(
        alert_id=alert.pk, ring=grown_ring("H", [*transfers, *later]), summary="x", details={}
    )

    assert grown is None
    assert alert.links.count() == 3
    assert alert.members.count() == 4


def test_rings_grown_in_one_call_each_grow_their_own_alert_in_order(partner):
    first_h, first_k = fan_in(partner, "H"), fan_in(partner, "K", senders=("T1", "T2", "T3"))
    raised = alerts_from_findings(
        findings=[ring_finding(partner, "H", first_h), ring_finding(partner, "K", first_k)]
    ).created
    h, k = sorted(raised, key=lambda alert: alert.account_external_id)
    first_c = fan_in(partner, "C", senders=("U1", "U2", "U3"))
    closed = alerts_from_findings(findings=[ring_finding(partner, "C", first_c)]).created[0]
    Alert.objects.filter(pk=closed.pk).update(
        status=AlertStatus.DISMISSED, dismiss_reason="Known", triaged_at=START
    )
    later_h = [paid(partner, "S4", "H", hours=31)]
    later_k = [paid(partner, "K", "T1", hours=32), paid(partner, "T4", "K", hours=33)]
    ring_h = grown_ring("H", [*first_h, *later_h])

    results = alerts_ring_grow(
        growths=[
            RingGrowth(
                k.pk,
                grown_ring("K", [*first_k, *later_k]),
                "K grew",
                {},
                added=tuple(tx.pk for tx in later_k),  # the alert holds the rest: only these read
            ),
            RingGrowth(closed.pk, grown_ring("C", first_c), "C grew", {}),
            RingGrowth(h.pk, ring_h, "H grew", {}),  # nothing said added: the whole ring read
            RingGrowth(h.pk, ring_h, "H again", {}, added=(later_h[0].pk,)),  # once only
        ]
    )

    assert [(r[0].pk, r[1]) if r else None for r in results] == [
        (k.pk, True),
        None,  # a closed alert is not grown
        (h.pk, True),
        (h.pk, False),
    ]
    assert dict(Alert.objects.get(pk=k.pk).members.values_list("account_external_id", "role")) == {
        "K": "hub",
        "T1": "intermediary",  # paid back by the hub
        "T2": "sender",
        "T3": "sender",
        "T4": "sender",
    }
    assert set(
        Alert.objects.get(pk=h.pk).members.values_list("account_external_id", flat=True)
    ) == {
        "H",
        "S1",
        "S2",
        "S3",
        "S4",
    }
    grown_h = Alert.objects.get(pk=h.pk)
    assert grown_h.amount_involved == Decimal("4000.00")
    assert grown_h.links.count() == 4
    assert [e.parameters["finding"] for e in grown_h.events.filter(type="ring_grew")] == ["H grew"]
    assert Alert.objects.get(pk=k.pk).amount_involved == Decimal("5000.00")


def test_growing_a_large_ring_costs_no_more_than_a_small_one(partner):
    """Busy hubs: a ring grown scan after scan must not cost more with every transfer it
    gathered. Neither its transfers nor the alert's links and members are read back: the
    same statements, the same rows returned, for 3 senders as for 40."""

    def cost(hub: str, senders: int) -> tuple[int, int]:
        first = fan_in(partner, hub, senders=[f"{hub}-S{n}" for n in range(senders)])
        (alert,) = alerts_from_findings(findings=[ring_finding(partner, hub, first)]).created
        later = [
            paid(partner, f"{hub}-N", hub, hours=40),
            paid(partner, hub, f"{hub}-S0", hours=41),
        ]
        rows: list[int] = []

        def count_rows(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            rows.append(max(context["cursor"].rowcount, 0) if context["cursor"].description else 0)
            return result

        with connection.execute_wrapper(count_rows):
            (result,) = alerts_ring_grow(
                growths=[
                    RingGrowth(
                        alert.pk,
                        grown_ring(hub, [*first, *later]),
                        "grew",
                        {},
                        added=tuple(tx.pk for tx in later),
                    )
                ]
            )
        assert result == (alert, True)
        roles = dict(alert.members.values_list("account_external_id", "role"))
        assert len(roles) == senders + 2 and alert.links.count() == senders + 2
        assert (roles[hub], roles[f"{hub}-S0"], roles[f"{hub}-N"]) == (
            "hub",
            "intermediary",
            "sender",
        )
        return len(rows), sum(rows)

    assert cost("SMALL", 3) == cost("LARGE", 40)


def test_only_subjects_with_an_alert_under_the_ring_rule_are_asked_about(partner):
    # Given a fan-in alert on H, and none on G nor under another rule on H
    first = fan_in(partner)
    alerts_from_findings(findings=[ring_finding(partner, "H", first)])
    other = PartnerBankFactory()
    asked = {
        ("network_fan_in", partner.pk, "H"),
        ("network_fan_in", partner.pk, "G"),
        ("network_fan_out", partner.pk, "H"),
        ("network_fan_in", other.pk, "H"),
    }

    # Then only H under the fan-in rule, at its partner, may have an alert on its ring
    assert ring_alert_subjects(subjects=asked) == {("network_fan_in", partner.pk, "H")}
    assert ring_alert_subjects(subjects=[]) == set()


def test_subjects_are_matched_as_whole_tuples_reading_no_other_alert(partner):
    # Given a fan-in alert on X and a fan-out alert on Y, at one partner
    alerts_from_findings(findings=[ring_finding(partner, "X", fan_in(partner, "X"))])
    alerts_from_findings(
        findings=[ring_finding(partner, "Y", fan_in(partner, "Y"), rule_code="network_fan_out")]
    )
    crossed = {("network_fan_in", partner.pk, "Y"), ("network_fan_out", partner.pk, "X")}
    rows: list[int] = []

    def count_rows(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        rows.append(context["cursor"].rowcount if context["cursor"].description else 0)
        return result

    # When asked about the rule of each with the account of the other, and about X's own
    with connection.execute_wrapper(count_rows):
        crossed_found = ring_alert_subjects(subjects=crossed)
        exact_found = ring_alert_subjects(subjects={*crossed, ("network_fan_in", partner.pk, "X")})

    # Then only the exact subject is found, and the database sent back no other row
    assert crossed_found == set()
    assert exact_found == {("network_fan_in", partner.pk, "X")}
    assert rows == [0, 1]


def test_an_alert_lacking_part_of_the_ring_is_told_apart_and_takes_the_whole_ring(partner):
    # Given an alert that links only two of the ring's three earlier transfers
    first = fan_in(partner)
    (alert,) = alerts_from_findings(findings=[ring_finding(partner, "H", first[:2])]).created
    later = [paid(partner, "H", "S3", hours=30)]

    def subject(transfers) -> RingSubject:
        return RingSubject(1, "network_fan_in", partner.pk, "H", [tx.pk for tx in transfers])

    # The selector finds it, and says it does not link all of them
    assert ring_alerts_latest(subjects=[subject(first)]) == {1: RingAlert(alert.pk, False)}
    assert ring_alerts_latest(subjects=[subject(first[:2])]) == {1: RingAlert(alert.pk, True)}
    assert ring_alerts_latest(subjects=[subject(later)]) == {}  # it links none of these

    # So the growth names no transfers added: what the alert lacked is read from the whole ring
    (result,) = alerts_ring_grow(
        growths=[RingGrowth(alert.pk, grown_ring("H", [*first, *later]), "grew", {})]
    )

    assert result == (alert, True)
    assert dict(alert.members.values_list("account_external_id", "role")) == {
        "H": "hub",
        "S1": "sender",
        "S2": "sender",
        "S3": "intermediary",  # paid the hub, then paid by it
    }
    assert alert.links.count() == 4
    assert Alert.objects.get(pk=alert.pk).amount_involved == Decimal("4000.00")
    assert alert.events.get(type=AlertEventType.RING_GREW).parameters["members_added"] == ["S3"]


@pytest.fixture
def ring_alert(partner):
    return alerts_from_findings(findings=[ring_finding(partner, "H", fan_in(partner))]).created[0]


@pytest.mark.parametrize(
    "row",
    [
        {"account_external_id": "X", "role": "boss"},  # no such role
        {"account_external_id": "", "role": MemberRole.SENDER},  # no account
        {"account_external_id": "S1", "role": MemberRole.RECEIVER},  # named twice
        {"account_external_id": "X", "role": MemberRole.HUB},  # a second hub
    ],
)
def test_the_database_refuses_a_member_that_breaks_the_ring(ring_alert, row):
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertMember.objects.create(alert=ring_alert, **row)


def test_a_ring_transfer_is_never_a_suppressed_occurrence(ring_alert, partner):
    tx = paid(partner, "S9", "H", hours=30)

    with pytest.raises(IntegrityError), transaction.atomic():
        AlertTransaction.objects.create(alert=ring_alert, transaction=tx, suppressed=True)

    AlertTransaction.objects.create(alert=ring_alert, transaction=tx)  # a plain ring transfer
    with pytest.raises(IntegrityError), transaction.atomic():  # but once per alert
        AlertTransaction.objects.create(alert=ring_alert, transaction=tx)


# --- Ring alerts raised before alerts carried their ring (migration 0012) ---------------------


def test_an_older_ring_alert_gets_its_rows_from_its_first_event(partner):
    # Given a ring alert as raised before: the ring only in its first event's details
    transfers = fan_in(partner)
    finding = Finding(
        rule_code="network_fan_in",
        partner_id=partner.pk,
        account_external_id="H",
        customer_external_id="c-H",
        summary="Fan-in: account H and 4 others",
        details={
            "network_pattern_id": 1,
            "hub": "H",
            "members": ["H", "S1", "S2", "S3", "GONE"],
            "transactions": [str(tx.pk) for tx in transfers],
        },
    )
    (ring_alert,) = alerts_from_findings(findings=[finding]).created
    Alert.objects.filter(pk=ring_alert.pk).update(currency="EUR", priority=500)

    # When the data migration runs
    migration = importlib.import_module("alerts.migrations.0012_ring_alerts_from_events")
    migration.forward(django_apps, None)

    # Then the alert names the members and links the transfers, with their total
    alert = Alert.objects.get(pk=ring_alert.pk)
    assert dict(alert.members.values_list("account_external_id", "role")) == {
        "H": "hub",
        "S1": "sender",
        "S2": "sender",
        "S3": "sender",
        "GONE": "intermediary",  # named by the ring, its transfers since pruned
    }
    assert alert.links.filter(hit__isnull=True).count() == 3
    assert (alert.amount_involved, alert.currency) == (Decimal("3000.00"), "USD")
    assert alert.priority == 500 + 75  # 25 a power of ten of the amount

    # And running it again changes nothing
    migration.forward(django_apps, None)
    assert alert.members.count() == 5 and alert.links.count() == 3
