"""Rules the request had to leave out (they read a provider only the worker runs, the
network's), run by the worker for transactions decided by ``?wait=true``."""

from __future__ import annotations

from unittest import mock

import pytest

from alerts.models import Alert
from rules import engine
from rules.choices import RuleStatus
from rules.models import Decision, Rule, RuleHit
from rules.tests.factories import network_rules_live
from sentinel.network.models import NetworkFinding
from sentinel.network.tests.graph import send, transfer
from sentinel.pipeline import orchestrator
from sentinel.pipeline.orchestrator import transaction_decide_now, transactions_process
from transactions.tests.factories import PartnerBankFactory


@pytest.fixture
def partner(db):
    network_rules_live()
    return PartnerBankFactory()


def _network_hits(ids) -> dict:
    """Network rule codes hit per transaction (index in ``ids``)."""
    codes: dict[int, set[str]] = {}
    for tx_id, code in RuleHit.objects.filter(
        decision_id__in=ids, shadow=False, rule__code__startswith="network_"
    ).values_list("decision_id", "rule__code"):
        codes.setdefault(ids.index(tx_id), set()).add(code)
    return codes


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
