"""Hand-built rings, chains and near misses through the real pipeline (ingest, the network
step, the ``network`` features, the default pack's network rules, decisions)."""

from __future__ import annotations

from decimal import Decimal

from rules.models import RuleHit
from sentinel.network.models import NetworkFinding, Transfer
from sentinel.network.tests.factories import parameters_in_force
from sentinel.network.tests.graph import send, transfer
from sentinel.pipeline.orchestrator import transactions_process
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory


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


# --- Batches ------------------------------------------------------------------------------


def _findings_by_position(ids) -> dict:
    """Each finding's figures, members and transactions, by the transactions' places in ids."""
    return {
        ids.index(f.transaction_id): (
            f.cycle_length,
            f.loop_length,
            f.carried_hops,
            f.chain_depth,
            f.members,
            sorted(ids.index(tx_id) for tx_id in f.transactions),
        )
        for f in NetworkFinding.objects.filter(transaction_id__in=ids)
    }


def test_what_the_searches_find_does_not_depend_on_how_the_queue_batched_the_transfers(partner):
    """The queue's batches grow and shrink with the load: one transfer's search must not see
    the transfers its own batch added after it (here the hops that carry the sum on)."""
    stream = [
        transfer("P", "Q", "4321.17", hours=0),
        transfer("Q", "R", "4300.05", hours=30),
        transfer("R", "S", "4290.40", hours=60),
        transfer("L1", "L2", "20000.00", hours=100),
        transfer("L2", "L3", "18500.00", hours=103),
        transfer("L3", "L4", "17000.00", hours=109),
        transfer("S", "P", "4280.00", hours=120),
    ]
    one_by_one = send(partner, *stream)
    other = PartnerBankFactory()
    in_one_batch = [r.id for r in transactions_ingest(partner=other, payloads=stream)]
    assert transactions_process(transaction_ids=in_one_batch) == len(stream)

    found = _findings_by_position(one_by_one)
    assert _findings_by_position(in_one_batch) == found
    # Each found as its pattern grew, none at its first hop (which nothing had reached yet).
    assert sorted(found) == [1, 2, 4, 5, 6]
    assert found[2][2] == 3 and found[5][3] == 3 and found[6][0] == 4
    assert _network_hits(in_one_batch) == _network_hits(one_by_one)


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


def test_everyday_whole_sums_passed_along_are_not_taken_for_the_same_money(partner):
    ids = send(
        partner,
        # 25.00 among friends, weeks apart and in no order (seed 7 of the demo)
        transfer("F1", "F2", "24.80", hours=24 * 2),
        transfer("F3", "F0", "25.00", hours=24 * 21),
        transfer("F0", "F1", "25.00", hours=24 * 24),
        # a bill split: 50.00 passed on, the 49.61 bill paid (seed 11)
        transfer("S1", "S2", "50.00", hours=24 * 5),
        transfer("S2", "BILLER", "49.61", hours=24 * 13),
        transfer("S0", "S1", "50.00", hours=24 * 13.3),
    )

    assert _network_hits(ids) == {}
    assert not NetworkFinding.objects.filter(carried_hops__gte=3).exists()


def test_a_fee_reduced_sum_with_cents_is_still_carried_whatever_its_size(partner):
    ids = send(
        partner,
        transfer("M2", "M3", "116.90", hours=24 * 12),  # AMLSim's median laundering sum
        transfer("M1", "M2", "117.43", hours=24 * 3),
        transfer("M3", "M4", "115.12", hours=24 * 25),
        transfer("W1", "W2", "25.00", hours=24 * 1),  # a whole sum then cents: fees taken
        transfer("W2", "W3", "24.71", hours=24 * 4),
        transfer("W3", "W4", "24.60", hours=24 * 9),
    )

    assert _network_hits(ids) == {
        2: {"network_amount_carried"},
        5: {"network_amount_carried"},
    }
    assert NetworkFinding.objects.get(transaction_id=ids[5]).carried_hops == 3


def test_a_version_with_everyday_sums_off_takes_them_for_the_same_money(partner):
    parameters_in_force(everyday_sum_below=0)

    ids = send(
        partner,
        transfer("F1", "F2", "25.00", hours=24 * 2),
        transfer("F0", "F1", "25.00", hours=24 * 3),
        transfer("F2", "F3", "25.00", hours=24 * 4),
    )

    assert _network_hits(ids) == {2: {"network_amount_carried"}}


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
