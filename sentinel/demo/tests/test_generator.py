"""The demo generator, without a database: reproducible, valid, and worth monitoring."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sentinel.demo import generator as demo
from sentinel.demo import lives
from transactions.choices import TransactionType
from transactions.schemas import validate_transaction

END = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
# In a population large enough, each typology is planted on this many accounts.
PER_TYPOLOGY = demo.ACTORS_PER_TYPOLOGY * len(demo.PARTNERS)


@pytest.fixture(scope="module")
def small():
    return demo.generate(seed=3, customers=20, days=5, end=END)


@pytest.fixture(scope="module")
def month():
    return demo.generate(seed=3, customers=60, days=30, end=END)


def _all(population: demo.Population) -> list[dict]:
    return [payload for payloads in population.payloads.values() for payload in payloads]


def _tagged(population: demo.Population, typology: str) -> list[dict]:
    return [p for p in _all(population) if p["metadata"].get(demo.TYPOLOGY_KEY) == typology]


def _moment(payload: dict) -> datetime:
    return datetime.fromisoformat(payload["occurred_at"])


def test_the_same_seed_gives_identical_payloads(small):
    again = demo.generate(seed=3, customers=20, days=5, end=END)

    assert again.payloads == small.payloads
    assert again.typologies == small.typologies


def test_another_seed_gives_other_people_and_other_money(small):
    other = demo.generate(seed=4, customers=20, days=5, end=END)

    assert {c.name for c in other.customers} != {c.name for c in small.customers}
    assert [p["amount"] for p in _all(other)] != [p["amount"] for p in _all(small)]
    assert not {p["external_id"] for p in _all(other)} & {p["external_id"] for p in _all(small)}


def test_every_payload_passes_the_ingest_contract(month):
    problems = {
        payload["external_id"]: errors
        for payload in _all(month)
        if (errors := validate_transaction(payload)[1])
    }

    assert problems == {}


def test_three_partners_share_the_customers_and_each_has_its_own_ids(small):
    assert list(small.payloads) == ["Northwind Bank", "Harbor Credit Union", "Lumen Pay"]
    assert len(small.customers) == 20
    for name, payloads in small.payloads.items():
        ids = [p["external_id"] for p in payloads]
        assert payloads, name
        assert len(ids) == len(set(ids))
        assert all(external_id.startswith("demo-3-") for external_id in ids)


def test_everything_happens_inside_the_window_but_a_dormant_accounts_past_and_nothing_later():
    now = datetime.now(UTC)
    start = now.replace(microsecond=0) - timedelta(days=5)

    population = demo.generate(seed=9, customers=20, days=5, end=now)

    before = [p for p in _all(population) if _moment(p) < start]
    assert before
    assert {p["metadata"][demo.TYPOLOGY_KEY] for p in before} == {"dormant_reactivation"}
    assert max(_moment(payload) for payload in _all(population)) < now


def test_a_month_holds_every_kind_of_transaction(month):
    kinds = Counter(payload["type"] for payload in _all(month))

    assert set(kinds) == set(TransactionType.values)
    assert kinds.most_common(1)[0][0] == "card_payment"


def test_a_few_percent_fail_and_card_payments_fail_most(month):
    payloads = _all(month)
    statuses = Counter(payload["status"] for payload in payloads)

    assert {"failed", "denied", "reversed"} <= set(statuses)
    assert 0.01 < 1 - statuses["approved"] / len(payloads) < 0.10

    def failure_rate(rows: list[dict]) -> float:
        return sum(row["status"] != "approved" for row in rows) / len(rows)

    cards = [p for p in payloads if p["type"] == "card_payment"]
    others = [p for p in payloads if p["type"] != "card_payment"]
    assert failure_rate(cards) > 2 * failure_rate(others)


def test_card_payments_carry_what_the_operational_monitor_groups_by(month):
    cards = [p for p in _all(month) if p["type"] == "card_payment"]

    for payment in cards:
        assert payment["channel"] in {"pos", "web"}
        assert payment["mcc"].isdigit() and len(payment["mcc"]) == 4
        assert payment["product"] and payment["acquirer"] and payment["card_type"]
        assert payment["beneficiary"]["name"]
        assert 1 <= payment["latency_ms"] < 60_000
    assert len({p["acquirer"] for p in cards}) > 3
    assert sorted(p["latency_ms"] for p in cards)[len(cards) // 2] < 1000


def test_salaries_arrive_close_to_each_customers_usual_pay(month):
    salary_of = {c.accounts[0]: Decimal(str(c.salary)) for c in month.customers if c.employer}
    salaries = [
        payload
        for payload in _all(month)
        if payload["type"] == "ach" and payload["direction"] == "inbound"
    ]

    assert len(salaries) > len(salary_of) / 2
    for salary in salaries:
        usual = salary_of[salary["beneficiary"]["account_id"]]
        assert abs(Decimal(salary["amount"]) - usual) < usual * Decimal("0.15")


def test_structuring_is_several_cash_deposits_just_under_the_threshold_within_days(month):
    deposits = _tagged(month, "structuring")

    by_account: dict[str, list[dict]] = {}
    for deposit in deposits:
        by_account.setdefault(deposit["beneficiary"]["account_id"], []).append(deposit)
    assert len(by_account) == PER_TYPOLOGY
    for account_deposits in by_account.values():
        moments = [_moment(d) for d in account_deposits]
        assert len(account_deposits) >= 4
        assert max(moments) - min(moments) <= timedelta(days=4)
        for deposit in account_deposits:
            assert deposit["type"] == "cash_deposit"
            assert 9000 <= Decimal(deposit["amount"]) < demo.CASH_REPORTING_THRESHOLD


def test_fan_in_collects_from_many_strangers_then_wires_it_abroad(month):
    pattern = _tagged(month, "fan_in")

    mule_accounts = {p["beneficiary"]["account_id"] for p in pattern if p["direction"] == "inbound"}
    assert len(mule_accounts) == PER_TYPOLOGY
    for account in mule_accounts:
        arrivals = [p for p in pattern if p["beneficiary"].get("account_id") == account]
        (wire,) = [p for p in pattern if p["originator"].get("account_id") == account]
        collected = sum(Decimal(p["amount"]) for p in arrivals)
        assert len(arrivals) >= 10
        assert len({p["originator"]["account_id"] for p in arrivals}) == len(arrivals)
        assert all(p["type"] == "p2p" for p in arrivals)
        assert wire["type"] == "wire"
        assert _moment(wire) >= max(_moment(p) for p in arrivals)
        assert collected * Decimal("0.9") < Decimal(wire["amount"]) < collected
        assert wire["beneficiary"]["country"] not in {p.country for p in demo.PARTNERS}


def test_a_wire_goes_to_a_high_risk_country(month):
    wires = _tagged(month, "high_risk_country")

    assert len(wires) == PER_TYPOLOGY
    for wire in wires:
        assert wire["type"] == "wire"
        assert wire["beneficiary"]["country"] in demo.HIGH_RISK_COUNTRIES


def test_every_typology_is_planted_on_customers_of_every_partner(month):
    planted = month.typologies

    assert {p.typology for p in planted} == set(demo.TYPOLOGIES)
    for typology in demo.TYPOLOGIES:
        actors = [p for p in planted if p.typology == typology]
        assert len({p.customer_id for p in actors}) == PER_TYPOLOGY
        assert {p.partner for p in actors} == {partner.name for partner in demo.PARTNERS}


def test_a_large_population_gives_every_planted_pattern_its_own_customer():
    population = demo.generate(seed=3, customers=200, days=1, end=END)

    planted = population.typologies
    assert len(planted) == PER_TYPOLOGY * len(demo.TYPOLOGIES)
    assert len({p.customer_id for p in planted}) == len(planted)


def test_a_small_population_shares_actors_but_keeps_half_of_each_partner_ordinary(small):
    planted = small.typologies
    actors = {p.customer_id for p in planted}

    assert {p.typology for p in planted} == set(demo.TYPOLOGIES)
    assert len({(p.customer_id, p.typology) for p in planted}) == len(planted)
    for partner in demo.PARTNERS:
        customers = [c for c in small.customers if c.partner == partner]
        assert sum(c.customer_id in actors for c in customers) <= len(customers) // 2


def _by_account(payloads: list[dict]) -> dict[str, list[dict]]:
    accounts: dict[str, list[dict]] = {}
    for payload in payloads:
        side = "originator" if payload["direction"] == "outbound" else "beneficiary"
        accounts.setdefault(payload[side]["account_id"], []).append(payload)
    return accounts


def _span(payloads: list[dict]) -> timedelta:
    moments = [_moment(p) for p in payloads]
    return max(moments) - min(moments)


def test_large_cash_is_one_cash_transaction_over_the_reporting_threshold(month):
    for (payload,) in _by_account(_tagged(month, "large_cash")).values():
        assert payload["type"] in {"cash_deposit", "cash_withdrawal"}
        assert Decimal(payload["amount"]) > demo.CASH_REPORTING_THRESHOLD


def test_velocity_is_dozens_of_transfers_out_within_the_hour_from_a_stranger_device(month):
    own_devices = {c.device_id for c in month.customers}

    for transfers in _by_account(_tagged(month, "velocity")).values():
        assert len(transfers) >= 25
        assert _span(transfers) <= timedelta(hours=1)
        assert {p["direction"] for p in transfers} == {"outbound"}
        assert {p["type"] for p in transfers} <= {"transfer", "p2p"}
        assert not {p["device_id"] for p in transfers} & own_devices


def test_fan_out_pays_many_new_people_within_a_day(month):
    for payments in _by_account(_tagged(month, "fan_out")).values():
        payees = {p["beneficiary"]["account_id"] for p in payments}
        assert len(payees) == len(payments) >= 10
        assert _span(payments) <= timedelta(days=1)


def test_pass_through_sends_nearly_all_of_a_large_credit_on_within_hours(month):
    for pattern in _by_account(_tagged(month, "pass_through")).values():
        (credit,) = [p for p in pattern if p["direction"] == "inbound"]
        onward = [p for p in pattern if p["direction"] == "outbound"]
        sent = sum(Decimal(p["amount"]) for p in onward)
        assert Decimal(credit["amount"]) >= 15_000
        assert Decimal("0.92") < sent / Decimal(credit["amount"]) < 1
        assert all(_moment(p) > _moment(credit) for p in onward)
        assert _span(pattern) <= timedelta(hours=18)


def test_list_hits_pay_a_sanctioned_party_spelled_otherwise_than_the_list(month):
    spellings = {spelled: entry for entry, spelled in demo.SANCTIONED_PARTIES}

    for payment in _tagged(month, "list_hit"):
        name = payment["beneficiary"]["name"]
        assert name in spellings and name != spellings[name]


def test_card_testing_is_a_burst_of_tiny_payments_mostly_declined(month):
    for burst in _by_account(_tagged(month, "card_testing")).values():
        declined = [p for p in burst if p["status"] in {"denied", "failed"}]
        assert 10 <= len(burst) <= 30
        assert _span(burst) <= timedelta(minutes=8)
        assert all(p["type"] == "card_payment" and Decimal(p["amount"]) < 5 for p in burst)
        assert len(declined) / len(burst) >= 0.55


def test_a_dormant_account_wakes_after_more_than_half_a_year_with_a_large_sum(month):
    for account, pattern in _by_account(_tagged(month, "dormant_reactivation")).items():
        pattern.sort(key=_moment)
        woken = next(p for p in pattern if Decimal(p["amount"]) >= 6000)
        history = pattern[: pattern.index(woken)]
        assert account.endswith("-9") and history
        assert _moment(woken) - _moment(history[-1]) > timedelta(days=180)
        assert pattern[-1]["direction"] == "outbound"


def test_round_amounts_are_several_large_transfers_in_whole_thousands(month):
    for transfers in _by_account(_tagged(month, "round_amounts")).values():
        assert len(transfers) >= 3
        assert _span(transfers) <= timedelta(days=5)
        for transfer in transfers:
            amount = Decimal(transfer["amount"])
            assert amount >= 5000 and amount % 1000 == 0


def test_ordinary_lives_include_lookalikes_of_the_typologies(month):
    traders = [c for c in month.customers if c.clients]
    trader_accounts = {c.accounts[0] for c in traders}
    gamers = {c.accounts[0] for c in month.customers if c.gamer}
    untagged = [p for p in _all(month) if demo.TYPOLOGY_KEY not in p["metadata"]]

    paid_by_clients = [
        p
        for p in untagged
        if p["type"] == "p2p" and p["beneficiary"].get("account_id") in trader_accounts
    ]
    assert traders and len(paid_by_clients) > 10 * len(traders)
    tiny = [
        p
        for p in untagged
        if p["type"] == "card_payment"
        and Decimal(p["amount"]) < 10
        and p["originator"]["account_id"] in gamers
    ]
    assert gamers and tiny


def test_a_house_deposit_paid_from_savings_sold_that_day_is_as_rare_as_in_life(month):
    # About 1 % of customers a year (sentinel/demo/lives.py says why): in 2,000 customer-years
    # about 20, where one in 11 customers a year made 180.
    first = month.customers[0]
    plain = replace(first, clients=(), gamer=False, accounts=first.accounts[:1])
    rng, days = random.Random(1), [END.date() - timedelta(days=n) for n in range(365)]

    deposits = [
        draft
        for _ in range(2_000)
        for day in days
        for draft in lives._lookalike_day(rng, plain, day)
        if draft.fields["direction"] == "inbound"
    ]

    assert 10 <= len(deposits) <= 35
    assert {draft.fields["originator"]["name"] for draft in deposits} == {"Summit Invest Brokerage"}


def test_planted_typologies_fit_even_a_one_day_window():
    population = demo.generate(seed=5, customers=20, days=1, end=END)

    for planted in population.typologies:
        stored = [
            payload
            for payload in _tagged(population, planted.typology)
            if planted.customer_id in _customer_ids(payload)
        ]
        assert len(stored) == planted.transactions


def _customer_ids(payload: dict) -> set[str | None]:
    return {payload.get(side, {}).get("customer_id") for side in ("originator", "beneficiary")}


def test_every_payload_says_which_seed_and_window_it_came_from(small):
    for payload in _all(small):
        assert payload["metadata"][demo.SEED_KEY] == 3
        assert payload["metadata"][demo.WINDOW_END_KEY] == "2025-03-14T09:30:00Z"


def test_too_small_a_population_is_refused():
    with pytest.raises(ValueError, match="at least"):
        demo.generate(seed=1, customers=demo.MIN_CUSTOMERS - 1, days=5, end=END)
