"""The money-flow view's reads: hops forward and backward in time, rings, fan-out, tenants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from transactions import flows
from transactions.flows import (
    FlowDirection,
    money_flow_hop,
    money_flow_json,
    money_flow_start,
)
from transactions.models import Transaction
from transactions.services import transactions_ingest
from transactions.services.profiles import (
    account_profiles_fold,
    transactions_claim_unprofiled,
)

from .factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db

FORWARD, BACKWARD = FlowDirection.FORWARD, FlowDirection.BACKWARD
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def pay(
    partner,
    source: str,
    target: str,
    *,
    on: float,
    amount: str = "100.00",
    inbound: bool = False,
    status: str = "approved",
    currency: str = "USD",
) -> Transaction:
    """``source`` pays ``target`` on day ``on``; the partner's customer is the payer, or the
    payee when ``inbound``. Profiled, so the customer's account is known as the partner's."""
    customer = {"customer_id": f"C{target if inbound else source}"}
    payload = transaction_payload(
        occurred_at=day(on).isoformat(),
        amount=amount,
        currency=currency,
        status=status,
        direction="inbound" if inbound else "outbound",
        originator={"account_id": source, "name": f"Holder {source}"}
        | ({} if inbound else customer),
        beneficiary={"account_id": target, "name": f"Holder {target}"}
        | (customer if inbound else {}),
    )
    (result,) = transactions_ingest(partner=partner, payloads=[payload])
    assert result.status == "created", result.errors
    account_profiles_fold(transactions=transactions_claim_unprofiled(transaction_ids=[result.id]))
    return Transaction.objects.get(pk=result.id)


def hop(partner, account: str, direction: FlowDirection, at: datetime, **options) -> dict:
    return money_flow_json(
        money_flow_hop(partner=partner, account=account, direction=direction, at=at, **options)
    )


def arrows(flow: dict) -> list[tuple[str, str, str]]:
    return [(e["source"], e["target"], e["amount"]) for e in flow["edges"]]


@pytest.fixture
def partner():
    return PartnerBankFactory()


def test_a_forward_hop_is_money_out_of_the_account_after_the_time(partner):
    # Given B received 900 on day 0, and paid out before, after, and beyond the horizon
    pay(partner, "B", "X", on=-1, amount="50.00")  # before: not where that money went
    pay(partner, "B", "C", on=2, amount="700.00")
    pay(partner, "B", "D", on=5, amount="150.00")
    pay(partner, "B", "E", on=40, amount="10.00")  # past the 30-day horizon
    pay(partner, "Q", "B", on=1, amount="999.00")  # money into B is not a forward hop

    # When the money is followed forward from B at day 0
    flow = hop(partner, "B", FORWARD, day(0))

    # Then the two payments within the horizon show, largest first, with amounts and dates
    assert arrows(flow) == [
        ("account:B", "account:C", "700.00"),
        ("account:B", "account:D", "150.00"),
    ]
    first = flow["edges"][0]
    assert first["currency"] == "USD" and first["date"] == "2026-03-03 12:00"
    assert first["occurred_at"] == "2026-03-03T12:00:00+00:00"
    assert flow["more"] == 0
    # A longer horizon reaches the late one
    assert len(hop(partner, "B", FORWARD, day(0), horizon=timedelta(days=60))["edges"]) == 3


def test_a_backward_hop_is_money_into_the_account_before_the_time(partner):
    # Given money reached A from two payers before day 0, one after, and one long before
    pay(partner, "P", "A", on=-3, amount="400.00", inbound=True)
    pay(partner, "R", "A", on=-1, amount="250.00", inbound=True)
    pay(partner, "S", "A", on=1, amount="800.00", inbound=True)  # after: not its source
    pay(partner, "U", "A", on=-45, amount="75.00", inbound=True)  # beyond the horizon
    pay(partner, "A", "P", on=-2, amount="30.00")  # money out of A is not a backward hop

    flow = hop(partner, "A", BACKWARD, day(0))

    assert arrows(flow) == [
        ("account:P", "account:A", "400.00"),
        ("account:R", "account:A", "250.00"),
    ]
    # A is the partner's account; its payers are outside counterparties named by the partner
    kinds = {node["id"]: (node["kind"], node["label"]) for node in flow["nodes"]}
    assert kinds["account:A"] == ("customer", "A · Holder A")
    assert kinds["account:P"] == ("outside", "P · Holder P")


def test_a_ring_closes_back_onto_its_first_account(partner):
    # Given a ring A→B→C→A in time order (all three the partner's customers)
    start = pay(partner, "A", "B", on=0, amount="1000.00")
    pay(partner, "B", "C", on=1, amount="980.00")
    pay(partner, "C", "A", on=2, amount="960.00")

    # When the money is followed hop by hop from the alerted payment, as the page does
    seen_nodes = {n["id"] for n in money_flow_json(start_of(partner, [start]))["nodes"]}
    seen_edges = {str(start.pk)}
    account, at, hops = "B", start.occurred_at, []
    while account and len(hops) < 10:
        flow = hop(partner, account, FORWARD, at)
        new = [edge for edge in flow["edges"] if edge["id"] not in seen_edges]
        hops.append([(edge["source"], edge["target"]) for edge in new])
        if not new:
            break
        seen_edges.update(edge["id"] for edge in new)
        seen_nodes.update(node["id"] for node in flow["nodes"])
        account = new[0]["target"].removeprefix("account:")
        at = datetime.fromisoformat(new[0]["occurred_at"])

    # Then the third hop lands on A, the node already drawn, and the next finds nothing later
    assert hops == [
        [("account:B", "account:C")],
        [("account:C", "account:A")],
        [],
    ]
    assert seen_nodes == {"account:A", "account:B", "account:C"}


def start_of(partner, transactions):
    return money_flow_start(partner=partner, transactions=transactions)


def test_a_hop_shows_the_largest_few_and_counts_the_rest(partner):
    # Given B paid 13 beneficiaries after day 0
    for n in range(13):
        pay(partner, "B", f"T{n:02d}", on=1 + n / 24, amount=f"{100 + n}.00")

    flow = hop(partner, "B", FORWARD, day(0), limit=5)

    # Then the five largest show, and the other eight are "+8 more"
    assert [edge["amount"] for edge in flow["edges"]] == [
        "112.00",
        "111.00",
        "110.00",
        "109.00",
        "108.00",
    ]
    assert flow["more"] == 8
    assert len(flow["nodes"]) == 6  # B and the five it paid
    # The default fan-out is the setting's
    assert len(hop(partner, "B", FORWARD, day(0))["edges"]) == 10


def test_a_hot_accounts_hop_ranks_the_nearest_in_time_and_says_so(partner, monkeypatch):
    # Given B paid eight times after day 0, the largest last, and a scan cap of six
    monkeypatch.setattr(flows, "SCAN_CAP", 6)
    for n in range(8):
        pay(partner, "B", f"T{n}", on=1 + n, amount=f"{100 + n}.00")

    forward = hop(partner, "B", FORWARD, day(0), limit=2)
    backward = hop(partner, "T7", BACKWARD, day(30), limit=2)

    # Then the two largest of the six nearest show, and the view says the rest went unranked
    assert [edge["amount"] for edge in forward["edges"]] == ["105.00", "104.00"]
    assert (forward["more"], forward["ranked_all"]) == (4, False)
    assert (backward["more"], backward["ranked_all"]) == (0, True)


def test_only_the_partners_own_transactions(partner):
    # Given another partner's customers use the same account ids
    pay(partner, "B", "C", on=1, amount="700.00")
    other = PartnerBankFactory()
    pay(other, "B", "Z", on=1, amount="5000.00")
    pay(other, "Y", "B", on=-1, amount="6000.00", inbound=True)

    assert arrows(hop(partner, "B", FORWARD, day(0))) == [("account:B", "account:C", "700.00")]
    assert hop(partner, "B", BACKWARD, day(0))["edges"] == []
    # An alerted transaction of another partner is never a start either
    foreign = Transaction.objects.get(partner=other, originator_account_id="B")
    assert money_flow_json(start_of(partner, [foreign]))["edges"] == []


def test_no_transactions_is_an_empty_hop(partner):
    for direction in (FORWARD, BACKWARD):
        flow = hop(partner, "nobody", direction, day(0))
        assert (flow["nodes"], flow["edges"], flow["more"]) == ([], [], 0)


def test_money_that_never_moved_is_left_out(partner):
    pay(partner, "B", "C", on=1, amount="700.00", status="failed")
    pay(partner, "B", "D", on=2, amount="600.00", status="denied")
    pay(partner, "B", "E", on=3, amount="500.00", status="reversed")

    flow = hop(partner, "B", FORWARD, day(0))

    assert [(edge["target"], edge["status"]) for edge in flow["edges"]] == [
        ("account:E", "reversed")
    ]


def test_the_start_is_the_alerted_transactions_largest_first(partner):
    # Given three alerted payments, one in euros, and a payee known only by name
    small = pay(partner, "A", "B", on=0, amount="100.00")
    large = pay(partner, "A", "C", on=1, amount="5000.00", currency="EUR")
    payload = transaction_payload(
        occurred_at=day(2).isoformat(),
        amount="300.00",
        originator={"account_id": "A", "customer_id": "CA"},
        beneficiary={"name": "Cash Express"},
    )
    (result,) = transactions_ingest(partner=partner, payloads=[payload])
    named = Transaction.objects.get(pk=result.id)

    flow = money_flow_json(
        money_flow_start(partner=partner, transactions=[small, large, named], limit=2)
    )

    assert [(e["target"], e["amount"], e["currency"]) for e in flow["edges"]] == [
        ("account:C", "5,000.00", "EUR"),
        ("name:Cash Express", "300.00", "USD"),
    ]
    assert all(edge["alerted"] for edge in flow["edges"])
    assert flow["more"] == 1
    cash = next(node for node in flow["nodes"] if node["id"] == "name:Cash Express")
    assert cash == {
        "id": "name:Cash Express",
        "kind": "outside",
        "account": "",  # known by name only: it cannot be followed
        "label": "Cash Express",
        "role": "",  # in no ring
    }


def test_a_rings_transfers_are_all_drawn_as_the_pattern_with_their_members_roles(partner):
    # Given a ring of three small transfers into hub H, and two larger alerted payments
    ring = [pay(partner, f"S{n}", "H", on=n, amount="10.00") for n in range(3)]
    others = [pay(partner, "A", f"B{n}", on=5, amount="900.00") for n in range(2)]
    roles = {"H": "hub", **{f"S{n}": "sender" for n in range(3)}}

    # When the start is cut at one transaction besides the ring
    flow = money_flow_json(
        money_flow_start(
            partner=partner,
            transactions=[*others, *ring],
            limit=1,
            ring={tx.pk for tx in ring},
            roles=roles,
        )
    )

    # Then the whole ring is drawn, marked, with its members' roles; the cut hits the others
    drawn = {edge["id"]: edge["ring"] for edge in flow["edges"]}
    assert {str(tx.pk) for tx in ring} <= set(drawn)
    assert sum(drawn.values()) == flow["ring_transfers"] == 3
    assert flow["more"] == 1
    assert {node["account"]: node["role"] for node in flow["nodes"] if node["role"]} == roles


def test_a_hop_costs_three_queries_at_most(partner, django_assert_max_num_queries):
    for n in range(12):
        pay(partner, "B", f"T{n}", on=1 + n / 24)
    # the hop, its count (it is cut), which accounts are the partner's
    with django_assert_max_num_queries(3):
        hop(partner, "B", FORWARD, day(0))
