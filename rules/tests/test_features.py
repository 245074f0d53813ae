"""Feature providers: a new family of features is one module plus one line of settings, and
a provider that fails degrades the decision instead of stopping it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from rules import engine
from rules.expressions import ExpressionError, compile_expression, language
from rules.features import FeatureBatch, FeatureField, FeatureProvider, registry
from rules.features.profile import profile_fields
from rules.models import Decision, RuleFailure
from rules.tests import factories
from sentinel.pipeline.orchestrator import transactions_process
from transactions.models import AccountProfile
from transactions.profile_cache import profile_as_dict
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db


class RoundAmountFeatures(FeatureProvider):
    """The test's own provider: how many trailing zeros the amount has."""

    name = "shape"
    fields = (FeatureField("shape.trailing_zeros", "number", "zeros at the end of the amount"),)
    budget_us = 5

    def values(self, batch: FeatureBatch) -> list[dict[str, object]]:
        return [{"shape.trailing_zeros": _zeros(tx.amount)} for tx in batch.transactions]


class BrokenFeatures(FeatureProvider):
    name = "broken"
    fields = (FeatureField("broken.value", "number", "never computed"),)

    def values(self, batch: FeatureBatch) -> list[dict[str, object]]:
        raise ConnectionError("the feature store is down")


def _zeros(amount: Decimal) -> Decimal:
    digits = str(int(amount))
    return Decimal(len(digits) - len(digits.rstrip("0")))


@pytest.fixture
def providers(settings):
    """Configure extra providers for one test, as a deployment would in settings."""
    saved = (
        dict(language.FIELDS),
        dict(language.FIELD_DOCS),
        dict(language.ENUM_FIELDS),
        set(language.NAMESPACES),
    )

    def configure(*classes: type[FeatureProvider]) -> None:
        settings.SENTINEL_FEATURE_PROVIDERS = [
            *settings.SENTINEL_FEATURE_PROVIDERS,
            *(f"{__name__}.{cls.__name__}" for cls in classes),
        ]
        registry.providers.cache_clear()
        registry.provider_of_field.cache_clear()
        registry.register_fields()

    yield configure
    registry.providers.cache_clear()
    registry.provider_of_field.cache_clear()
    for table, copy in zip(
        (language.FIELDS, language.FIELD_DOCS, language.ENUM_FIELDS, language.NAMESPACES),
        saved,
        strict=True,
    ):
        table.clear()
        table.update(copy)


def _score(partner, **payload) -> Decision:
    (result,) = transactions_ingest(partner=partner, payloads=[transaction_payload(**payload)])
    transactions_process(transaction_ids=[result.id])
    return Decision.objects.get(pk=result.id)


def test_a_registered_provider_feeds_the_rule_language_explanations_and_scoring(providers):
    providers(RoundAmountFeatures)
    factories.only_these_rules(
        factories.rule(code="round", expression="shape.trailing_zeros >= 3", outcome="review")
    )
    partner = PartnerBankFactory()

    round_one = _score(partner, amount="25000.00")
    ragged = _score(partner, amount="25013.00")

    assert round_one.outcome == "review"
    (hit,) = round_one.hits.all()
    assert "shape.trailing_zeros = 3" in hit.explanation
    assert ragged.outcome == "allow"


def test_an_unknown_provider_field_is_refused_with_a_suggestion(providers):
    providers(RoundAmountFeatures)
    with pytest.raises(ExpressionError, match="did you mean 'shape.trailing_zeros'"):
        compile_expression("shape.trailing_zero > 1")


def test_without_the_provider_its_fields_are_unknown():
    with pytest.raises(ExpressionError, match="only customer, counterparty"):
        compile_expression("shape.trailing_zeros >= 3")


def test_a_failing_provider_fails_its_rules_and_the_decision_says_so(providers):
    providers(BrokenFeatures)
    factories.only_these_rules(
        factories.rule(code="big", expression="amount >= 10000", outcome="review"),
        factories.rule(code="needs_broken", expression="broken.value > 1", outcome="block"),
    )
    partner = PartnerBankFactory()

    decision = _score(partner, amount="12000.00")

    assert (decision.outcome, decision.degraded) == ("review", ["broken"])
    assert decision.rules_failed == 1
    failure = RuleFailure.objects.get(transaction_id=decision.pk)
    assert failure.rule.code == "needs_broken"
    assert failure.message == "feature provider unavailable: broken"


def test_a_provider_not_allowed_in_the_request_is_left_to_the_worker(providers):
    class WorkerOnly(RoundAmountFeatures):
        in_request = False

    globals()["WorkerOnly"] = WorkerOnly  # importable by its dotted path, as settings need
    try:
        providers(WorkerOnly)
        rule = factories.rule(code="round", expression="shape.trailing_zeros >= 3")
        factories.only_these_rules(rule)
        partner = PartnerBankFactory()
        (result,) = transactions_ingest(
            partner=partner, payloads=[transaction_payload(amount="25000.00")]
        )
        tx = result.transaction

        (in_request,) = engine.evaluate_transactions([tx], profiles={}, in_request=True)
        (in_worker,) = engine.evaluate_transactions([tx], profiles={})

        assert (in_request.hits, in_request.failures, in_request.degraded) == ([], [], frozenset())
        assert [rule.code for rule, _ in in_worker.hits] == ["round"]
    finally:
        del globals()["WorkerOnly"]


def test_two_providers_may_not_share_a_name(providers, settings):
    settings.SENTINEL_FEATURE_PROVIDERS = [
        f"{__name__}.RoundAmountFeatures",
        f"{__name__}.RoundAmountFeatures",
    ]
    registry.providers.cache_clear()
    with pytest.raises(ValueError, match="names a provider twice"):
        registry.providers()


def test_a_rule_reads_how_many_counterparties_the_account_ever_dealt_with():
    factories.only_these_rules(
        factories.rule(code="wide", expression="profile.counterparty_count >= 3", outcome="review")
    )
    partner = PartnerBankFactory()
    outcomes = [
        _score(partner, beneficiary={"account_id": payee, "name": "P"}).outcome
        for payee in ("B1", "B2", "B1", "B3")
    ]

    # The profile stage folds a transaction before the rules see it: the third payee is
    # the third counterparty; paying the first again adds none.
    assert outcomes == ["allow", "allow", "allow", "review"]


def test_a_profile_cached_before_the_count_existed_leaves_it_unknown():
    cached = {
        "first_seen_at": "2026-03-01T00:00:00+00:00",
        "transaction_count": 4,
        "risk_rating": "low",
        "single_transaction_limit": None,
        "daily_limit": None,
        "activity": {"outbound:transfer:USD": {"count": 4, "sum": "400.0000"}},
        "countries": {},
        "devices": {},
    }

    fields = profile_fields(cached, datetime(2026, 3, 2, tzinfo=UTC), "USD")

    assert fields["profile.counterparty_count"] is None
    assert fields["profile.smallest_amount"] is None
    assert fields["profile.transaction_count"] == 4


def test_the_amount_range_is_the_accounts_whole_life_in_the_transactions_currency():
    factories.only_these_rules(
        factories.rule(
            code="range",
            expression="profile.largest_amount >= 10 * profile.smallest_amount",
            outcome="review",
        )
    )
    partner = PartnerBankFactory()
    first = _score(partner, amount="90.00")
    _score(partner, amount="400.00", direction="inbound", **_inbound_to_a1())
    _score(partner, amount="7.00", currency="EUR")  # another currency: another range

    usd = _score(partner, amount="1000.00")

    # The profile stage folds a transaction before the rules read it: the range includes it.
    assert first.outcome == "allow"
    assert usd.outcome == "review"
    explanation = usd.hits.get().explanation
    assert "profile.largest_amount = 1,000.00" in explanation
    assert "profile.smallest_amount = 90.00" in explanation
    stored = profile_as_dict(AccountProfile.objects.get(account__external_id="A1"))
    eur = profile_fields(stored, datetime.now(UTC), "EUR")
    assert (eur["profile.smallest_amount"], eur["profile.largest_amount"]) == (7, 7)


def _inbound_to_a1() -> dict:
    return {
        "originator": {"account_id": "Z5", "name": "Zed"},
        "beneficiary": {"account_id": "A1", "customer_id": "C1", "name": "Ana Lima"},
    }
