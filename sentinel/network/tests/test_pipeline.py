"""Hand-built rings, chains and near misses through the real pipeline (ingest, the network
step, the ``network`` features, the default pack's network rules, decisions)."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

from alerts.models import Alert
from rules import engine
from rules.choices import RuleStatus
from rules.models import Decision, Rule, RuleHit
from sentinel.network.models import NetworkFinding, Transfer
from sentinel.network.tests.graph import send, transfer
from sentinel.pipeline import orchestrator
from sentinel.pipeline.orchestrator import transaction_decide_now, transactions_process
from transactions.services import transactions_ingest


def _hits(ids) -> dict:
    """Rule codes hit per transaction (index in ``ids``)."""
    codes: dict[int, set[str]] = {}
    for tx_id, code in RuleHit.objects.filter(decision_id__in=ids, shadow=False).values_list(
        "decision_id", "rule__code"
    ):
        codes.setdefault(ids.index(tx_id), set()).add(code)
    return codes


def _network_hits(ids) -> dict:
    return {
        index: {code for code in codes if code.startswith("network_")}
        for index, codes in _hits(ids).items()
        if any(code.startswith("network_") for code in codes)
    }


# --- Rings -------------------------------------------------------------------------------


def test_a_round_trip_through_three_others_is_one_cycle_found_by_the_closing_transfer(partner):
    ids = send(
        partner,
        transfer("A", "B", "9000.00", hours=0),
        transfer("B", "C", "8700.00", hours=20),
        transfer("C", "D", "8650.00", hours=50),
        transfer("D", "A", "8500.00", hours=90),
    )

    assert _network_hits(ids) == {3: {"network_cycle"}}
    finding = NetworkFinding.objects.get(transaction_id=ids[3])
    assert (finding.cycle_length, finding.cycle_time_ordered) == (4, True)
    assert finding.members == ["A", "B", "C", "D"]
    assert set(finding.transactions) == set(ids)
    assert finding.cycle_days == Decimal("3.75")


def test_the_same_amount_carried_round_in_any_order_over_weeks_is_a_cycle(partner):
    ids = send(
        partner,
        transfer("P", "Q", "4321.17", hours=24 * 2),
        transfer("R", "S", "4321.17", hours=24 * 1),
        transfer("S", "P", "4321.17", hours=24 * 20),
        transfer("Q", "R", "4321.17", hours=24 * 9),
    )

    assert "network_cycle" in _network_hits(ids)[3]
    finding = NetworkFinding.objects.get(transaction_id=ids[3])
    assert (finding.cycle_length, finding.cycle_time_ordered) == (4, False)
    assert finding.members == ["P", "Q", "R", "S"]


def test_a_layering_chain_forwarding_most_within_hours_is_found_at_its_third_hop(partner):
    ids = send(
        partner,
        transfer("L1", "L2", "20000.00", hours=0),
        transfer("L2", "L3", "18500.00", hours=3),
        transfer("L3", "L4", "17000.00", hours=9),
    )

    assert _network_hits(ids) == {2: {"network_layering_chain"}}
    assert NetworkFinding.objects.get(transaction_id=ids[2]).chain_depth == 3


def test_the_same_amount_passed_along_three_accounts_out_of_order_is_carried(partner):
    ids = send(
        partner,
        transfer("M2", "M3", "777.35", hours=24 * 12),
        transfer("M1", "M2", "780.00", hours=24 * 3),
        transfer("M3", "M4", "770.10", hours=24 * 25),
    )

    assert _network_hits(ids) == {2: {"network_amount_carried"}}
    assert NetworkFinding.objects.get(transaction_id=ids[2]).carried_hops == 3


# --- Near misses -------------------------------------------------------------------------


def test_a_cycle_too_slow_to_be_a_round_trip_whose_amounts_change_is_not_flagged(partner):
    ids = send(
        partner,
        transfer("A", "B", "9000.00", hours=0),
        transfer("B", "C", "6000.00", hours=24 * 4),
        transfer("C", "A", "3000.00", hours=24 * 9),  # 9 days: outside the 7-day round trip
    )

    assert _network_hits(ids) == {}
    assert not NetworkFinding.objects.filter(cycle_length__gt=0).exists()


def test_amounts_that_do_not_carry_make_no_chain(partner):
    ids = send(
        partner,
        transfer("L1", "L2", "20000.00", hours=0),
        transfer("L2", "L3", "4000.00", hours=3),  # a fifth forwarded: not "most of it"
        transfer("L3", "L4", "3900.00", hours=6),
    )

    assert _network_hits(ids) == {}


def test_a_ring_broken_by_a_missing_hop_is_no_cycle(partner):
    ids = send(
        partner,
        transfer("A", "B", "5000.00", hours=0),
        transfer("B", "C", "5000.00", hours=5),
        transfer("D", "A", "5000.00", hours=10),  # C never pays D
    )

    assert not NetworkFinding.objects.filter(cycle_length__gt=0).exists()
    assert "network_cycle" not in set().union(*_network_hits(ids).values())


def test_money_paid_back_is_a_two_hop_cycle_no_rule_alerts_on(partner):
    ids = send(
        partner,
        transfer("A", "B", "250.00", hours=0),
        transfer("B", "A", "250.00", hours=30),
    )

    assert NetworkFinding.objects.get(transaction_id=ids[1]).cycle_length == 2
    assert _network_hits(ids) == {}


def test_failed_transfers_card_payments_and_payments_to_oneself_are_not_edges(partner):
    send(
        partner,
        transfer("A", "B", "100.00", hours=0, status="failed"),
        transfer("A", "A", "100.00", hours=1),
        transfer("A", "MERCHANT", "100.00", hours=1.5, type="card_payment"),
        transfer("A", "C", "100.00", hours=2),
    )

    assert list(Transfer.objects.values_list("source", "target")) == [("A", "C")]


def test_a_retried_batch_adds_no_edge_twice(partner):
    (result,) = transactions_ingest(partner=partner, payloads=[transfer("A", "B", "10", hours=0)])
    transactions_process(transaction_ids=[result.id])
    transactions_process(transaction_ids=[result.id])

    assert Transfer.objects.count() == 1


def test_a_ring_reported_from_both_sides_is_found_once_per_side(partner):
    hops = [("A", "B", 0), ("B", "C", 10), ("C", "A", 20)]
    payloads = []
    for source, target, hours in hops:
        for direction in ("outbound", "inbound"):
            payloads.append(transfer(source, target, "3000.00", hours=hours, direction=direction))

    ids = send(partner, *payloads)

    assert _network_hits(ids) == {4: {"network_cycle"}, 5: {"network_cycle"}}


def test_a_ring_with_a_two_hop_return_inside_is_reported_as_the_longer_ring(partner):
    ids = send(
        partner,
        transfer("B", "A", "100.00", hours=1),  # A and B also trade small sums both ways
        transfer("A", "B", "7000.00", hours=2),
        transfer("B", "C", "6900.00", hours=10),
        transfer("C", "A", "6800.00", hours=20),
    )

    finding = NetworkFinding.objects.get(transaction_id=ids[3])
    assert (finding.cycle_length, finding.members) == (3, ["A", "B", "C"])
    assert _network_hits(ids)[3] == {"network_cycle"}


def test_a_round_sum_passed_along_is_not_taken_for_the_same_money(partner):
    ids = send(
        partner,
        transfer("M2", "M3", "20.00", hours=24 * 12),  # friends settling a dinner, by chance
        transfer("M1", "M2", "20.00", hours=24 * 3),
        transfer("M3", "M4", "20.00", hours=24 * 25),
    )

    assert _network_hits(ids) == {}


def test_with_network_analytics_off_no_edge_is_added_and_no_ring_is_searched(partner, settings):
    # Given network analytics switched off (its default outside the tests)
    settings.SENTINEL_NETWORK_ANALYTICS = False

    # When a ring A -> B -> C -> A goes through the pipeline
    send(
        partner,
        transfer("A", "B", "900.00", hours=0),
        transfer("B", "C", "890.00", hours=5),
        transfer("C", "A", "880.00", hours=10),
    )

    # Then the graph stays empty and nothing is found
    assert not Transfer.objects.exists()
    assert not NetworkFinding.objects.exists()


# --- Decided in the request (?wait=true) ----------------------------------------------------


def test_a_cycle_closed_by_a_transaction_decided_in_the_request_is_hit_by_the_worker(partner):
    """The network provider cannot run in a request; the worker runs the rules that read it
    afterwards, adds their hits to the stored decision and raises the alert. The outcome the
    partner was answered stands."""
    ids = send(
        partner,
        transfer("W1", "W2", "9000.00", hours=0),
        transfer("W2", "W3", "8800.00", hours=20),
        transfer("W3", "W4", "8700.00", hours=50),
    )
    with mock.patch.object(orchestrator, "transactions_hand_over"):  # the worker comes next
        result, answered = transaction_decide_now(
            partner=partner, payload=transfer("W4", "W1", "8600.00", hours=90)
        )
    assert answered["outcome"] == "allow"
    assert not [hit for hit in answered["hits"] if hit["rule"].startswith("network_")]
    decision = Decision.objects.get(pk=result.id)
    evaluated_in_request = decision.rules_evaluated
    assert not RuleHit.objects.filter(decision_id=result.id, rule__code__startswith="network_")

    transactions_process(transaction_ids=[result.id])

    assert _network_hits([*ids, result.id]) == {3: {"network_cycle"}}
    decision.refresh_from_db()
    assert decision.outcome == "allow"  # the answer given stands
    assert decision.rules_evaluated == evaluated_in_request  # counted by the request
    late = RuleHit.objects.get(decision_id=result.id, rule__code="network_cycle")
    assert late.created_at > decision.decided_at
    alert = Alert.objects.get(rule__code="network_cycle")
    assert alert.links.filter(transaction_id=result.id, hit=late).exists()


def test_with_no_network_rule_running_the_worker_adds_nothing_to_a_request_decision(partner):
    ids = send(
        partner,
        transfer("Z1", "Z2", "9000.00", hours=0),
        transfer("Z2", "Z3", "8800.00", hours=20),
        transfer("Z3", "Z4", "8700.00", hours=50),
    )
    Rule.objects.filter(code__startswith="network_").update(status=RuleStatus.PAUSED)
    engine.forget()
    with mock.patch.object(orchestrator, "transactions_hand_over"):  # the worker comes next
        result, _ = transaction_decide_now(
            partner=partner, payload=transfer("Z4", "Z1", "8600.00", hours=90)
        )
    evaluated = Decision.objects.get(pk=result.id).rules_evaluated

    transactions_process(transaction_ids=[result.id])

    assert _network_hits([*ids, result.id]) == {}
    assert Decision.objects.get(pk=result.id).rules_evaluated == evaluated
    assert NetworkFinding.objects.filter(transaction_id=result.id).exists()  # the graph has it
