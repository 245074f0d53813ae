"""The scheduled window scan on small planted graphs: each shape found once, with every member
and transfer; ordinary traffic, small sums and young graphs left alone; re-scans add nothing;
partners apart. Transfers go through the real ingest and pipeline (accounts, the graph)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from sentinel.network.choices import PatternKind
from sentinel.network.models import NetworkPattern
from sentinel.network.services import network_patterns_scan, network_patterns_scan_changes
from sentinel.network.window import WindowParameters
from sentinel.pipeline.orchestrator import transactions_process
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = 24
# Hours are counted from here; the window scans end at ``END`` (in the past, as ingest wants).
START = NOW - timedelta(days=60)
END = 55 * DAY
# The graph in most tests is younger than the scan's month of history: they waive it, and
# the history's own tests keep it.
NO_HISTORY = WindowParameters(history=timedelta(0))


def edge(source: str, target: str, hours: float, amount: str = "900.00", **overrides) -> dict:
    """A transfer source → target; ``inbound`` makes the target the partner's customer."""
    return transaction_payload(
        occurred_at=(START + timedelta(hours=hours)).isoformat().replace("+00:00", "Z"),
        amount=amount,
        originator={"account_id": source, "customer_id": f"c-{source}", "country": "US"},
        beneficiary={"account_id": target, "customer_id": f"c-{target}", "country": "US"},
        **overrides,
    )


def into(source: str, target: str, hours: float, amount: str = "900.00") -> dict:
    return edge(source, target, hours, amount, direction="inbound")


def load(partner, *payloads: dict) -> dict[tuple[str, str], object]:
    """Accept the transfers and run the pipeline on them in one batch; ids by (source, target)."""
    results = transactions_ingest(partner=partner, payloads=list(payloads))
    assert {result.status for result in results} == {"created"}, results
    transactions_process(transaction_ids=[result.id for result in results])
    return {
        (p["originator"]["account_id"], p["beneficiary"]["account_id"]): r.id
        for p, r in zip(payloads, results, strict=True)
    }


def scan(partner, *, until: float = END, parameters=NO_HISTORY) -> list[NetworkPattern]:
    return network_patterns_scan(
        partner_id=partner.pk, until=START + timedelta(hours=until), parameters=parameters
    )


def shapes(patterns) -> list[tuple[str, str]]:
    return sorted((pattern.kind, pattern.hub) for pattern in patterns)


# --- Each shape ------------------------------------------------------------------------------


def test_five_new_payers_into_one_account_are_a_fan_in_naming_them_all(partner):
    ids = load(partner, *(into(f"P{i}", "HUB", 50 * DAY + i) for i in range(5)))

    (pattern,) = scan(partner)

    assert (pattern.kind, pattern.hub) == (PatternKind.FAN_IN, "HUB")
    assert pattern.members == ["HUB", "P0", "P1", "P2", "P3", "P4"]
    assert set(pattern.transactions) == set(ids.values())
    assert pattern.first_at == START + timedelta(hours=50 * DAY)
    assert pattern.last_at == START + timedelta(hours=50 * DAY + 4)


def test_one_account_paying_five_new_payees_is_a_fan_out(partner):
    load(partner, *(edge("HUB", f"R{i}", 50 * DAY + i) for i in range(5)))

    assert shapes(scan(partner)) == [(PatternKind.FAN_OUT, "HUB")]


def test_three_payers_in_then_three_payees_out_are_one_gather_scatter_not_two_fans(partner):
    load(
        partner,
        *(into(f"P{i}", "HUB", 50 * DAY + i, "1500.00") for i in range(3)),
        *(edge("HUB", f"R{i}", 51 * DAY + i, "1400.00") for i in range(3)),
    )

    (pattern,) = scan(partner)

    assert (pattern.kind, pattern.hub) == (PatternKind.GATHER_SCATTER, "HUB")
    assert len(pattern.members) == 7 and len(pattern.transactions) == 6


def test_payees_paid_before_the_payers_paid_in_are_no_gather_scatter(partner):
    load(
        partner,
        *(edge("HUB", f"R{i}", 49 * DAY + i, "1400.00") for i in range(3)),
        *(into(f"P{i}", "HUB", 50 * DAY + i, "1500.00") for i in range(3)),
    )

    assert scan(partner) == []


def test_one_source_reaching_one_sink_through_three_intermediaries_is_a_scatter_gather(partner):
    ids = load(
        partner,
        *(edge("SRC", f"M{i}", 50 * DAY + i, "1200.00") for i in range(3)),
        *(edge(f"M{i}", "SINK", 52 * DAY + i, "1150.00") for i in range(3)),
    )

    (pattern,) = scan(partner)

    assert (pattern.kind, pattern.hub) == (PatternKind.SCATTER_GATHER, "SRC")
    assert pattern.members == ["M0", "M1", "M2", "SINK", "SRC"]
    assert set(pattern.transactions) == set(ids.values())


def test_intermediaries_paying_the_sink_before_they_were_paid_are_no_scatter_gather(partner):
    load(
        partner,
        *(edge(f"M{i}", "SINK", 49 * DAY + i, "1150.00") for i in range(3)),
        *(edge("SRC", f"M{i}", 50 * DAY + i, "1200.00") for i in range(3)),
    )

    assert scan(partner) == []


def test_three_senders_each_paying_the_same_three_receivers_are_a_bipartite_set(partner):
    load(
        partner,
        *(
            edge(f"S{i}", f"R{j}", 50 * DAY + 3 * i + j, "700.00")
            for i in range(3)
            for j in range(3)
        ),
    )

    (pattern,) = scan(partner)

    assert pattern.kind == PatternKind.BIPARTITE
    assert pattern.members == ["R0", "R1", "R2", "S0", "S1", "S2"]
    assert len(pattern.transactions) == 9


def test_a_set_whose_receivers_pay_on_to_a_further_set_is_a_stack(partner):
    load(
        partner,
        *(
            edge(f"S{i}", f"M{j}", 50 * DAY + 3 * i + j, "700.00")
            for i in range(3)
            for j in range(3)
        ),
        *(
            edge(f"M{i}", f"T{j}", 52 * DAY + 3 * i + j, "650.00")
            for i in range(3)
            for j in range(3)
        ),
    )

    (pattern,) = scan(partner)

    assert pattern.kind == PatternKind.STACK
    assert len(pattern.members) == 9 and len(pattern.transactions) == 18


# --- Left alone ------------------------------------------------------------------------------


def test_four_payers_or_five_paying_small_sums_are_no_fan_in(partner):
    load(
        partner,
        *(into(f"P{i}", "FOUR", 50 * DAY + i) for i in range(4)),
        *(into(f"Q{i}", "SMALL", 50 * DAY + i, "45.00") for i in range(5)),
    )

    assert scan(partner) == []


def test_payees_paid_a_month_before_the_window_are_no_fan_out(partner):
    """Monthly bills and the rent: the same payees as last month are not new."""
    payees = [f"BILL{i}" for i in range(6)]
    load(
        partner,
        *(edge("CUST", payee, 14 * DAY + i) for i, payee in enumerate(payees)),
        *(edge("CUST", payee, 44 * DAY + i) for i, payee in enumerate(payees)),
        edge("FIRST", "SOMEONE", 0),  # the graph holds 55 days: a month behind the window
    )

    assert scan(partner, parameters=WindowParameters()) == []


def test_a_graph_without_a_month_before_the_window_is_not_scanned(partner):
    load(partner, *(into(f"P{i}", "HUB", 50 * DAY + i) for i in range(5)))

    assert scan(partner, parameters=WindowParameters()) == []
    load(partner, edge("FIRST", "SOMEONE", 0))
    assert shapes(scan(partner, parameters=WindowParameters())) == [(PatternKind.FAN_IN, "HUB")]


def test_a_fan_into_an_account_at_another_bank_is_not_the_partners_ring(partner):
    """A biller or an employer elsewhere is paid by many customers: no hub of ours."""
    load(partner, *(edge(f"C{i}", "UTILITY", 50 * DAY + i) for i in range(6)))

    assert scan(partner) == []


def test_transfers_before_the_window_make_no_ring(partner):
    load(partner, *(into(f"P{i}", "HUB", 30 * DAY + i) for i in range(5)))

    assert scan(partner) == []  # the window is the 10 days up to day 55


# --- Re-scans and partners -------------------------------------------------------------------


def test_a_rescan_finds_the_ring_known_and_a_later_one_grows_it(partner):
    load(partner, *(into(f"P{i}", "HUB", 50 * DAY + i) for i in range(5)))
    (first,) = scan(partner)

    assert scan(partner) == []
    late = load(partner, into("P5", "HUB", 53 * DAY))
    assert scan(partner, until=END + DAY) == []

    (pattern,) = NetworkPattern.objects.all()
    assert pattern.pk == first.pk
    assert "P5" in pattern.members and late["P5", "HUB"] in pattern.transactions
    assert pattern.last_at == START + timedelta(hours=53 * DAY)


def test_a_grown_ring_is_stored_as_the_scan_reports_it(partner):
    # Given a fan-in found, then two more payers into its hub
    load(partner, *(into(f"P{i}", "HUB", 50 * DAY + i) for i in range(5)))
    (first,) = scan(partner)
    late = load(partner, into("P6", "HUB", 53 * DAY), into("P5", "HUB", 53 * DAY + 1))

    # When a later scan grows it
    (growth,) = network_patterns_scan_changes(
        partner_id=partner.pk, until=START + timedelta(hours=END + DAY), parameters=NO_HISTORY
    ).grown

    # Then what is stored is what the growth reports: the new transfers after the known ones
    # (in id order), the members sorted, the latest transfer's time
    stored = NetworkPattern.objects.get()
    added = sorted(late.values(), key=str)
    assert growth.transactions == tuple(added) and growth.members == ("P5", "P6")
    assert stored.transactions == growth.pattern.transactions == [*first.transactions, *added]
    assert stored.members == growth.pattern.members == sorted({*first.members, "P5", "P6"})
    assert stored.last_at == growth.pattern.last_at == START + timedelta(hours=53 * DAY + 1)
    assert stored.updated_at == growth.pattern.updated_at > first.updated_at


def test_a_ring_met_twice_by_one_scan_grows_twice_each_growth_as_it_left_the_ring(partner):
    # Given a gather-scatter at A, one of whose payees, B, then gathers and scatters too
    load(
        partner,
        *(into(f"P{i}", "A", 50 * DAY + i, "1500.00") for i in range(3)),
        *(edge("A", payee, 51 * DAY + i, "1400.00") for i, payee in enumerate(["B", "Y1", "Y2"])),
    )
    (ring,) = scan(partner)
    late = load(
        partner,
        *(into(f"Q{i}", "B", 52 * DAY + i, "1500.00") for i in range(2)),
        *(edge("B", f"Z{i}", 53 * DAY + i, "1400.00") for i in range(3)),
        edge("A", "Y3", 53 * DAY, "1400.00"),
    )

    # When the next scan finds A's ring grown and B's, which shares A → B with it
    with CaptureQueriesContext(connection) as queries:
        grown = network_patterns_scan_changes(
            partner_id=partner.pk, until=START + timedelta(hours=END + DAY), parameters=NO_HISTORY
        ).grown

    # Then the one pattern grew twice, each growth reporting it as that growth left it, and
    # what is stored is the last; the scan asked for the pattern once per meeting, its row
    # read at the first, with the lock (services._pattern_met)
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "network_networkpattern"' in q["sql"]
    ]
    assert len(reads) == 2 and all(sql.endswith("FOR UPDATE") for sql in reads)
    assert [growth.pattern.pk for growth in grown] == [ring.pk, ring.pk]
    assert grown[0].pattern.get_deferred_fields() == set()
    first, second = grown
    assert first.pattern.transactions == [*ring.transactions, *first.transactions]
    assert second.pattern.transactions == [*first.pattern.transactions, *second.transactions]
    assert {*first.transactions, *second.transactions} == set(late.values())
    stored = NetworkPattern.objects.get()
    assert (stored.members, stored.transactions, stored.last_at) == (
        second.pattern.members,
        second.pattern.transactions,
        second.pattern.last_at,
    )
    assert set(first.pattern.members) < set(stored.members)


def test_the_same_hub_and_shape_cannot_be_stored_twice_over_overlapping_times(partner):
    load(partner, *(into(f"P{i}", "HUB", 50 * DAY + i) for i in range(5)))
    (pattern,) = scan(partner)
    pattern.pk = None
    pattern.transactions = []

    with pytest.raises(IntegrityError):
        pattern.save()


def test_each_partner_is_scanned_alone(partner):
    other = PartnerBankFactory()
    load(partner, *(into(f"P{i}", "HUB", 50 * DAY + i) for i in range(3)))
    load(other, *(into(f"P{i}", "HUB", 50 * DAY + i) for i in range(3, 6)))

    assert scan(partner) == [] and scan(other) == []  # 3 payers each: no fan in either
    load(other, *(into(f"Q{i}", "HUB", 51 * DAY + i) for i in range(2)))
    assert shapes(scan(other)) == [(PatternKind.FAN_IN, "HUB")]
    assert scan(partner) == []
