"""Proximity to known-bad accounts, end to end: hand-built graphs sent through the real ingest
and pipeline, seeds made the way users make them (a watch-list entry, a case closed with a
filed SAR, a partner's feedback), the recompute queued after their commit, and the
``network_near_flagged`` rule reading the result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cases import services as case_services
from cases.tests import factories as case_factories
from cases.tests.factories import ingest_and_score
from rules.models import Backtest, Decision, Rule, RuleList
from rules.services import (
    backtest_run,
    list_entries_edit,
    list_entries_import,
    rule_change_approve,
    rule_try,
)
from rules.tests.factories import network_rules_live, officer
from sentinel.network.models import AccountProximity
from sentinel.network.tests.factories import parameters_in_force
from sentinel.pipeline import tasks
from transactions.models import Transaction
from transactions.services import api_key_create, transaction_feedback_record
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC).replace(microsecond=0)


def transfer(source: str, target: str, amount: str = "100.00", days_ago: float = 3) -> dict:
    """source → target, the source being the partner's customer (outbound)."""
    return transaction_payload(
        occurred_at=(NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z"),
        amount=amount,
        direction="outbound",
        type="transfer",
        originator={"account_id": source, "customer_id": f"c-{source}", "country": "US"},
        beneficiary={"account_id": target, "customer_id": f"c-{target}", "country": "US"},
    )


def chain(partner) -> list:
    """S pays A, B pays A, B pays C, C pays D, D pays E: S is 4 transfers from E."""
    return ingest_and_score(
        partner,
        transfer("S", "A"),
        transfer("B", "A"),
        transfer("B", "C"),
        transfer("C", "D"),
        transfer("D", "E"),
    )


def hops(partner) -> dict[str, int]:
    rows = AccountProximity.objects.filter(partner=partner)
    return dict(rows.values_list("account", "hops"))


def watch(account: str, note: str = "police request 12") -> None:
    watchlist = RuleList.objects.get(name="watchlist_accounts")
    list_entries_import(rule_list=watchlist, csv_text=f"{account},{note}")


@pytest.fixture
def partner():
    network_rules_live()
    return PartnerBankFactory()


def test_a_watch_listed_account_puts_its_graph_within_three_hops(
    partner, django_capture_on_commit_callbacks
):
    chain(partner)

    with django_capture_on_commit_callbacks(execute=True):
        watch("S")

    assert hops(partner) == {"S": 0, "A": 1, "B": 2, "C": 3}  # D is 4 away, E 5: beyond
    c = AccountProximity.objects.get(partner=partner, account="C")
    assert (c.seed, c.seed_reason, c.path) == ("S", "list", ["C", "B", "A", "S"])
    assert c.seed_note == 'list "watchlist_accounts": police request 12'


def test_a_payment_processor_does_not_put_its_customers_near_the_seed(partner):
    ingest_and_score(partner, transfer("S", "PROCESSOR"), transfer("P0", "X"))
    ingest_and_score(partner, *(transfer(f"P{i}", "PROCESSOR", "20.00") for i in range(51)))
    watch("S")

    tasks.refresh_network_proximity.delay()  # beat's recompute

    assert hops(partner) == {"S": 0, "PROCESSOR": 1}  # 52 counterparties: a hub


def test_a_sar_filed_on_a_case_flags_its_accounts_once_approved(
    partner, django_capture_on_commit_callbacks
):
    chain(partner)
    proposer, approver = case_factories.senior(), case_factories.senior()
    case = case_factories.case(
        partner=partner, account="B", customer="c-B", status="investigating", assignee=proposer
    )
    case = case_factories.exported_sar(case, actor=proposer)
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_propose_closure(
            case=case, actor=proposer, disposition="sar_filed", reason="Mule."
        )
    assert not AccountProximity.objects.exists()  # proposed is not filed

    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_approve_closure(case=case, actor=approver)

    assert hops(partner) == {"B": 0, "A": 1, "C": 1, "S": 2, "D": 2, "E": 3}
    a = AccountProximity.objects.get(partner=partner, account="A")
    assert (a.seed_reason, a.seed_note) == ("sar", f"case #{case.pk}")


def test_a_case_closed_without_a_sar_flags_nothing(partner, django_capture_on_commit_callbacks):
    chain(partner)
    case = case_factories.case(partner=partner, account="B", customer="c-B", status="investigating")
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_propose_closure(
            case=case, actor=case.assignee, disposition="false_positive", reason="Payroll."
        )

    tasks.refresh_network_proximity.delay()

    assert not AccountProximity.objects.exists()


def test_confirmed_fraud_flags_the_account_paid_and_taking_it_back_unflags_it(
    partner, django_capture_on_commit_callbacks
):
    chain(partner)
    (paid_d,) = Transaction.objects.filter(partner=partner, beneficiary_account_id="D")
    api_key, _ = api_key_create(partner=partner)

    def feedback(outcome: str) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            transaction_feedback_record(
                transaction=paid_d, api_key=api_key, outcome=outcome, occurred_at=NOW
            )

    feedback("confirmed_fraud")
    assert hops(partner) == {"D": 0, "C": 1, "E": 1, "B": 2, "A": 3}
    assert (
        AccountProximity.objects.get(account="D").seed_note == f"transaction {paid_d.external_id}"
    )

    feedback("legitimate")  # the partner takes it back: recomputed whole at once

    assert hops(partner) == {}


def test_a_chargeback_is_not_a_confirmation(partner, django_capture_on_commit_callbacks):
    (tx,) = ingest_and_score(partner, transfer("V", "M"))
    api_key, _ = api_key_create(partner=partner)
    with django_capture_on_commit_callbacks(execute=True):
        transaction_feedback_record(
            transaction=Transaction.objects.get(pk=tx),
            api_key=api_key,
            outcome="chargeback",
            occurred_at=NOW,
        )

    tasks.refresh_network_proximity.delay()

    assert not AccountProximity.objects.exists()


def test_a_list_entry_removed_takes_its_proximity_away_on_the_recompute(partner):
    chain(partner)
    watch("S")
    tasks.refresh_network_proximity.delay()
    assert hops(partner)["C"] == 3

    RuleList.objects.get(name="watchlist_accounts").entries.filter(value="S").delete()
    tasks.refresh_network_proximity.delay()

    assert hops(partner) == {}


def test_a_list_removal_approved_by_a_second_officer_takes_its_proximity_away_at_once(
    partner, django_capture_on_commit_callbacks
):
    chain(partner)
    watch("S")
    tasks.refresh_network_proximity.delay()
    watchlist = RuleList.objects.get(name="watchlist_accounts")
    change = list_entries_edit(
        rule_list=watchlist, actor=officer(), removed=[watchlist.entries.get(value="S")]
    )
    assert hops(partner)["S"] == 0  # waiting for the second officer

    with django_capture_on_commit_callbacks(execute=True):
        rule_change_approve(change=change, approver=officer())

    assert hops(partner) == {}


def test_a_new_seed_only_brings_accounts_nearer(partner, django_capture_on_commit_callbacks):
    chain(partner)
    watch("S")
    tasks.refresh_network_proximity.delay()
    before = AccountProximity.objects.get(partner=partner, account="A")

    with django_capture_on_commit_callbacks(execute=True):
        watch("E")  # incremental: from E only

    assert hops(partner) == {"S": 0, "A": 1, "B": 2, "C": 2, "D": 1, "E": 0}
    after = AccountProximity.objects.get(partner=partner, account="A")
    assert after.computed_at == before.computed_at  # not rewritten: S is still nearest
    assert AccountProximity.objects.get(partner=partner, account="C").seed == "E"


def test_each_partner_walks_its_own_graph(partner):
    other = PartnerBankFactory()
    chain(partner)
    ingest_and_score(other, transfer("Q", "R"))
    watch("S")

    tasks.refresh_network_proximity.delay()

    assert hops(other) == {"S": 0}  # the list is everyone's; S has no transfer at the other
    assert hops(partner)["A"] == 1


def test_the_rule_fires_on_a_flagged_counterparty_and_near_a_seed_with_money(partner):
    chain(partner)
    watch("S")
    tasks.refresh_network_proximity.delay()

    small_to_seed, large_near, large_far, small_near = ingest_and_score(
        partner,
        transfer("Y", "S", "50.00", days_ago=1),  # Y was nowhere near: paying S counts at once
        transfer("A", "Z", "5000.00", days_ago=1),  # A is 1 hop from S
        transfer("C", "Z", "5000.00", days_ago=1),  # C is 3 hops away
        transfer("A", "Z", "500.00", days_ago=1),  # near, but a small amount
    )

    def hit(tx_id) -> str | None:
        found = Decision.objects.get(pk=tx_id).hits.filter(rule__code="network_near_flagged")
        return found.values_list("explanation", flat=True).first()

    assert 'network.flagged_counterparty = true (S: on a watch list, list "watchlist_accounts"' in (
        hit(small_to_seed) or ""
    )
    assert "network.hops_to_flagged = 1 (S: on a watch list" in (hit(large_near) or "")
    assert "via A → S" in hit(large_near)
    assert hit(large_far) is None
    assert hit(small_near) is None


def test_a_back_test_reads_the_stored_proximity(partner):
    chain(partner)
    ingest_and_score(partner, transfer("A", "Z", "5000.00", days_ago=1))
    watch("S")
    tasks.refresh_network_proximity.delay()
    rule = Rule.objects.get(code="network_near_flagged")
    backtest = Backtest.objects.create(
        rule_version=rule.version,
        partner=partner,
        occurred_after=NOW - timedelta(days=5),
        occurred_before=NOW,
        requested_by=officer(),
    )

    done = backtest_run(backtest_id=backtest.pk)

    assert (done.result["transactions_hit"], done.result["failures"]) == (1, 0), done.error
    (sample,) = done.result["samples"]  # A paying Z 5,000; S paying A 100 is too small
    assert sample["account_id"] == "A"
    assert "network.hops_to_flagged = 1" in sample["explanation"]


def test_try_it_reads_the_stored_proximity_for_a_pasted_transfer(partner):
    chain(partner)
    watch("S")
    tasks.refresh_network_proximity.delay()
    version = Rule.objects.get(code="network_near_flagged").version

    tried = rule_try(version=version, partner=partner, payload=transfer("B", "Z", "4000.00"))
    near = rule_try(version=version, partner=partner, payload=transfer("A", "Z", "4000.00"))

    assert (tried.hit, tried.fields["network.hops_to_flagged"]) == (False, 2)
    assert near.hit and "via A → S" in near.explanation


def test_nothing_is_computed_while_network_analytics_is_off(
    partner, settings, django_capture_on_commit_callbacks
):
    settings.SENTINEL_NETWORK_ANALYTICS = False
    chain(partner)
    with django_capture_on_commit_callbacks(execute=True):
        watch("S")

    assert tasks.refresh_network_proximity.delay().get() == 0
    assert not AccountProximity.objects.exists()


def test_the_walk_reads_its_bound_and_hub_limit_from_the_version_in_force(partner):
    # Given officers who put 2 hops and hubs at 5 counterparties in force
    parameters_in_force(proximity_hops=2, proximity_hub_counterparties=5)
    chain(partner)
    ingest_and_score(partner, *(transfer(f"P{i}", "C", "20.00") for i in range(5)))
    watch("S")

    tasks.refresh_network_proximity.delay()  # beat's recompute

    # S–A–B is within 2 hops; C (3 away) is not kept, whatever it would pass on
    assert hops(partner) == {"S": 0, "A": 1, "B": 2}
    # And C, with 7 counterparties, is reached from the seed P0 but passes nothing on: D (2
    # from P0 through C) stays out, as it would not under the installed 50
    AccountProximity.objects.filter(partner=partner).delete()
    watch("P0")
    tasks.refresh_network_proximity.delay()
    assert hops(partner) == {"S": 0, "A": 1, "B": 2, "P0": 0, "C": 1}
