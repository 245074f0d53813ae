"""The proximity walk, pure: hand-built graphs as adjacency dicts, no database."""

from __future__ import annotations

import pytest

from sentinel.network.choices import SeedReason
from sentinel.network.proximity import (
    ProximityParameters,
    Seed,
    proximity_reach,
    seeds_merged,
)

PARAMETERS = ProximityParameters(hub_counterparties=5, window_days=42)


def graph(*edges: tuple[str, str]):
    """The ``neighbours`` function of an undirected graph, capped like the SQL one."""
    adjacent: dict[str, set[str]] = {}
    for a, b in edges:
        adjacent.setdefault(a, set()).add(b)
        adjacent.setdefault(b, set()).add(a)

    def neighbours(nodes):
        cap = PARAMETERS.hub_counterparties + 1
        return {node: sorted(adjacent[node])[:cap] for node in nodes if node in adjacent}

    return neighbours


LISTED = Seed("S", SeedReason.LIST, 'list "watchlist_accounts"')
CHAIN = graph(("S", "A"), ("A", "B"), ("B", "C"), ("C", "D"), ("D", "E"))


def test_each_account_gets_its_hops_to_the_seed_up_to_three_and_none_beyond():
    reached = proximity_reach([LISTED], CHAIN, PARAMETERS)

    assert {account: r.hops for account, r in reached.items()} == {"S": 0, "A": 1, "B": 2, "C": 3}
    assert reached["C"].path == ("C", "B", "A", "S")
    assert reached["C"].seed == LISTED


def test_a_smaller_bound_stops_sooner():
    reached = proximity_reach([LISTED], CHAIN, ProximityParameters(max_hops=1))

    assert set(reached) == {"S", "A"}


def test_a_hub_is_reached_but_passes_no_proximity_on():
    customers = [("PROCESSOR", f"P{i}") for i in range(6)]  # 6 counterparties > 5
    neighbours = graph(("S", "PROCESSOR"), *customers, ("P0", "X"))

    reached = proximity_reach([LISTED], neighbours, PARAMETERS)

    assert reached["PROCESSOR"].hops == 1
    assert not {"P0", "P1", "X"} & set(reached)


def test_an_account_at_the_hub_bound_is_still_walked_through():
    customers = [("SHOP", f"P{i}") for i in range(4)]  # with S: 5 counterparties, not more
    reached = proximity_reach([LISTED], graph(("S", "SHOP"), *customers), PARAMETERS)

    assert reached["P0"].hops == 2


def test_a_seed_that_is_a_hub_passes_nothing_on_either():
    victims = [("S", f"V{i}") for i in range(6)]

    reached = proximity_reach([LISTED], graph(*victims), PARAMETERS)

    assert set(reached) == {"S"}


def test_the_nearest_seed_wins_and_a_tie_goes_to_the_stronger_reason():
    reported = Seed("R", SeedReason.SAR, "case #7")
    neighbours = graph(("S", "A"), ("A", "R"), ("R", "B"), ("B", "C"), ("C", "S"))

    reached = proximity_reach([LISTED, reported], neighbours, PARAMETERS)

    assert (reached["A"].seed, reached["A"].hops) == (reported, 1)  # both at 1: a SAR first
    assert (reached["C"].seed, reached["C"].hops) == (LISTED, 1)
    assert (reached["B"].seed, reached["B"].hops) == (reported, 1)


def test_an_account_flagged_for_several_reasons_is_one_seed_under_the_strongest():
    merged = seeds_merged(
        [LISTED, Seed("S", SeedReason.FEEDBACK, "transaction T1"), Seed("", SeedReason.SAR, "")]
    )

    assert merged == [Seed("S", SeedReason.FEEDBACK, "transaction T1")]


def test_no_seeds_reach_nothing():
    assert proximity_reach([], CHAIN, PARAMETERS) == {}


@pytest.mark.parametrize(
    "arguments",
    [{"max_hops": 0}, {"max_hops": 4}, {"hub_counterparties": 0}, {"window_days": -1}],
)
def test_parameters_out_of_range_are_refused(arguments):
    with pytest.raises(ValueError):
        ProximityParameters(**arguments)
