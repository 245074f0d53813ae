"""Scoring through the real pipeline: decisions, explanations, shadow hits, failures."""

from __future__ import annotations

import time

import pytest

from rules import engine, services
from rules.choices import RuleStatus
from rules.models import Decision, Rule, RuleFailure, RuleHit
from rules.tests import factories
from sentinel.pipeline.orchestrator import transactions_process
from sentinel.redis import get_redis, redis_key
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db


def _ingest_and_process(partner, *payloads):
    results = transactions_ingest(partner=partner, payloads=list(payloads))
    ids = [result.id for result in results]
    transactions_process(transaction_ids=ids)
    return ids


def test_a_live_hit_decides_and_explains_itself():
    partner = PartnerBankFactory()
    rule = factories.rule(expression="amount >= 10000", outcome="review", score=40)
    factories.only_these_rules(rule)

    (tx_id,) = _ingest_and_process(partner, transaction_payload(amount="12500.00"))

    decision = Decision.objects.get(pk=tx_id)
    hit = decision.hits.get()
    assert (decision.outcome, decision.score) == ("review", 40)
    assert (hit.rule, hit.rule_version, hit.shadow) == (rule, rule.version, False)
    assert "amount = 12,500.00 >= 10,000" in hit.explanation


def test_no_hit_allows_with_score_zero():
    partner = PartnerBankFactory()
    factories.only_these_rules(factories.rule(expression="amount >= 10000"))
    (tx_id,) = _ingest_and_process(partner, transaction_payload(amount="10.00"))
    decision = Decision.objects.get(pk=tx_id)
    assert (decision.outcome, decision.score, decision.hits.count()) == ("allow", 0, 0)


def test_shadow_hits_are_stored_apart_and_never_change_the_outcome():
    partner = PartnerBankFactory()
    shadow = factories.rule(expression="amount > 0", status=RuleStatus.SHADOW, outcome="block")
    factories.only_these_rules(shadow)

    (tx_id,) = _ingest_and_process(partner, transaction_payload())

    decision = Decision.objects.get(pk=tx_id)
    assert (decision.outcome, decision.score) == ("allow", 0)
    assert RuleHit.objects.get(decision=decision).shadow is True


def test_the_strongest_live_outcome_wins_and_scores_add_up():
    partner = PartnerBankFactory()
    block = factories.rule(expression="amount > 100", outcome="block", score=10)
    alert = factories.rule(expression="amount > 50", outcome="alert", score=20)
    factories.only_these_rules(block, alert)
    (tx_id,) = _ingest_and_process(partner, transaction_payload(amount="500.00"))
    decision = Decision.objects.get(pk=tx_id)
    assert (decision.outcome, decision.score) == ("block", 30)


def test_score_thresholds_raise_the_outcome():
    partner = PartnerBankFactory()
    services.decision_thresholds_update(review_score=30, block_score=60)
    rules = [factories.rule(expression="amount > 1", outcome="alert", score=20) for _ in range(2)]
    factories.only_these_rules(*rules)
    (tx_id,) = _ingest_and_process(partner, transaction_payload())
    assert Decision.objects.get(pk=tx_id).outcome == "review"


def test_a_failing_rule_is_recorded_and_the_others_still_run():
    partner = PartnerBankFactory()
    broken = factories.rule(expression="latency_ms > 100")
    working = factories.rule(expression="amount > 1")
    factories.only_these_rules(broken, working)

    (tx_id,) = _ingest_and_process(partner, transaction_payload(latency_ms=None))

    decision = Decision.objects.get(pk=tx_id)
    assert list(decision.hits.values_list("rule", flat=True)) == [working.pk]
    assert decision.rules_failed == 1
    failure = RuleFailure.objects.get(transaction_id=tx_id)
    assert failure.rule == broken
    assert "latency_ms" in failure.message


def test_scoring_twice_leaves_one_decision():
    partner = PartnerBankFactory()
    factories.only_these_rules(factories.rule(expression="amount > 1"))
    (tx_id,) = _ingest_and_process(partner, transaction_payload())
    tx = Decision.objects.get(pk=tx_id).transaction

    evaluations = engine.evaluate_transactions([tx], profiles={})
    services.decisions_store(evaluations)
    services.decisions_store(evaluations)

    assert Decision.objects.filter(pk=tx_id).count() == 1
    assert RuleHit.objects.filter(decision_id=tx_id).count() == 1


def test_rules_apply_only_to_their_partners_and_types():
    mine, other = PartnerBankFactory(), PartnerBankFactory()
    scoped = services.rule_create(
        code="scoped",
        author=None,
        name="Scoped",
        expression="amount > 1",
        severity="low",
        score=5,
        outcome="alert",
        partners=[mine],
        transaction_types=["wire"],
    )
    Rule.objects.filter(pk=scoped.pk).update(status=RuleStatus.LIVE)
    factories.only_these_rules(scoped)

    ids = _ingest_and_process(
        mine, transaction_payload(type="wire"), transaction_payload(type="transfer")
    )
    (other_id,) = _ingest_and_process(other, transaction_payload(type="wire"))

    hit_ids = set(RuleHit.objects.values_list("decision_id", flat=True))
    assert hit_ids == {ids[0]}
    assert other_id not in hit_ids


def test_aggregates_count_the_account_history_including_the_current_one():
    partner = PartnerBankFactory()
    velocity = factories.rule(expression='count(by="account", within="1h") >= 3')
    factories.only_these_rules(velocity)
    ids = [_ingest_and_process(partner, transaction_payload())[0] for _ in range(3)]
    hits = set(RuleHit.objects.values_list("decision_id", flat=True))
    assert hits == {ids[2]}
    assert "count(by account, 1h) = 3 >= 3" in RuleHit.objects.get().explanation


def test_list_rules_match_names_whatever_case_accents_and_order():
    partner = PartnerBankFactory()
    factories.rule_list("watch", "name", ["José María Pérez"])
    listed = factories.rule(expression='counterparty.name in list("watch")')
    factories.only_these_rules(listed)
    beneficiary = {"account_id": "X1", "name": "PEREZ, Jose Maria", "country": "ES"}

    (tx_id,) = _ingest_and_process(partner, transaction_payload(beneficiary=beneficiary))

    assert RuleHit.objects.filter(decision_id=tx_id).exists()


@pytest.mark.django_db(transaction=True)
def test_a_change_in_another_process_applies_here_within_the_check_interval():
    # Given this process has loaded the rules
    rule = factories.rule(expression="amount > 1", status=RuleStatus.LIVE)
    assert rule.pk in {r.rule_id for r in engine.current_ruleset().rules}

    # When another process pauses it (database change, then the generation bump)
    Rule.objects.filter(pk=rule.pk).update(status=RuleStatus.PAUSED)
    get_redis().incr(redis_key("rules", "generation"))

    # Then this process stops running it within GENERATION_CHECK_SECONDS
    time.sleep(engine.GENERATION_CHECK_SECONDS + 0.05)
    assert rule.pk not in {r.rule_id for r in engine.current_ruleset().rules}
