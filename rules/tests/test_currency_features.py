"""``amount_base`` and ``base_currency``: rules on the amount in the partner's reporting
currency, explained with the rate, in the worker, in the request and in back-tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from rules import engine
from rules.aggregates import CurrencyFigures
from rules.expressions import compile_expression
from rules.models import Decision, RuleFailure
from rules.services import backtest_request, backtest_run, rule_try
from rules.tests import factories
from sentinel.pipeline.orchestrator import transactions_process
from transactions.choices import RateSource
from transactions.models import ExchangeRate, PartnerBank
from transactions.services import transactions_ingest
from transactions.tests.factories import transaction_payload

pytestmark = pytest.mark.django_db
# The tests' transactions fall within the hour before NOW and use the rates of NOW's day: in
# the first hour of a UTC day, NOW is the end of the day before, so none of them falls on a
# day without rates.
_STARTED = timezone.now().astimezone(UTC)
NOW = (
    _STARTED
    if _STARTED.hour
    else _STARTED.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(seconds=1)
)
TODAY = NOW.date()


@pytest.fixture
def euro_bank() -> PartnerBank:
    return PartnerBank.objects.create(name="Euro Bank", slug="euro", reporting_currency="EUR")


def ecb(day: date, **rates: str) -> None:
    for quote, value in rates.items():
        ExchangeRate.objects.create(
            date=day, base="EUR", quote=quote, rate=Decimal(value), source=RateSource.ECB
        )


def score(partner, *payloads: dict) -> list[Decision]:
    results = transactions_ingest(partner=partner, payloads=list(payloads))
    transactions_process(transaction_ids=[result.id for result in results])
    return [Decision.objects.get(pk=result.id) for result in results]


def test_the_fields_are_in_the_rule_language():
    compiled = compile_expression('amount_base >= 10000 and base_currency == "EUR"')
    assert compiled.fields == {"amount_base", "base_currency"}


def test_a_rule_on_amount_base_converts_and_its_explanation_names_the_rate(euro_bank):
    ecb(TODAY - timedelta(days=1), USD="1.25", GBP="0.80")
    factories.only_these_rules(
        factories.rule(code="big_in_euro", expression="amount_base >= 10000", outcome="review")
    )

    dollars, pounds, euros = score(
        euro_bank,
        transaction_payload(amount="12500.00", currency="USD"),  # 10,000.00 EUR
        transaction_payload(amount="7000.00", currency="GBP"),  # 8,750.00 EUR
        transaction_payload(amount="10000.00", currency="EUR"),
    )

    assert (dollars.outcome, pounds.outcome, euros.outcome) == ("review", "allow", "review")
    (hit,) = dollars.hits.all()
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    assert hit.explanation == (
        "amount_base = 10,000.00 EUR (12,500.00 USD at 0.8 EUR per USD (ecb, "
        f"{yesterday}, inverse)) >= 10,000"
    )
    assert euros.hits.get().explanation == "amount_base = 10,000.00 EUR >= 10,000"


def test_without_a_rate_the_rule_fails_for_that_transaction_and_says_which_rate(euro_bank):
    factories.only_these_rules(
        factories.rule(code="big_in_euro", expression="amount_base >= 10000", outcome="review"),
        factories.rule(code="big", expression="amount >= 10000", outcome="review"),
    )

    (decision,) = score(
        euro_bank,
        transaction_payload(amount="12500.00", currency="JPY", occurred_at=_ago(minutes=1)),
    )

    assert decision.outcome == "review"  # the other rule still decides
    failure = RuleFailure.objects.get(transaction_id=decision.pk)
    assert failure.rule.code == "big_in_euro"
    assert failure.message == (
        f"field 'amount_base' has no value: no JPY→EUR exchange rate on {TODAY.isoformat()} "
        "or in the 7 days before (in amount_base >= 10000)"
    )


def test_in_the_request_the_batch_converts_in_one_query_for_rates(
    euro_bank, django_assert_num_queries
):
    ecb(TODAY, USD="1.25", GBP="0.80")
    factories.only_these_rules(factories.rule(code="any_base", expression="amount_base >= 1"))
    results = transactions_ingest(
        partner=euro_bank,
        payloads=[
            transaction_payload(amount=f"{n}.00", currency=("USD", "GBP", "EUR")[n % 3])
            for n in range(1, 60)
        ],
    )
    batch = [result.transaction for result in results]  # built with their partner loaded
    ruleset = engine.current_ruleset()
    # Once first, so that other providers' one-off loads (the live model) are behind us.
    engine.batch_features(batch, profiles={}, ruleset=ruleset, in_request=True)

    with django_assert_num_queries(1):
        values = engine.batch_features(batch, profiles={}, ruleset=ruleset, in_request=True)

    assert {fields["base_currency"] for fields in values.fields} == {"EUR"}
    assert values.fields[0]["amount_base"] == Decimal("1.25")  # 1.00 GBP
    assert values.fields[1]["amount_base"] == Decimal("2.00")  # 2.00 EUR
    assert values.fields[2]["amount_base"] == Decimal("2.40")  # 3.00 USD
    assert not values.failed
    assert values.skipped == {"network"}  # the worker's alone (not in the request)


def test_try_it_and_back_tests_see_amount_base(euro_bank):
    ecb(TODAY, USD="1.25")
    rule = factories.rule(code="big_in_euro", expression="amount_base >= 10000")
    tried = rule_try(
        version=rule.version,
        partner=euro_bank,
        payload=transaction_payload(amount="12500.00", currency="USD"),
    )
    assert tried.hit and tried.fields["amount_base"] == Decimal("10000.00")

    factories.only_these_rules()
    results = transactions_ingest(
        partner=euro_bank,
        payloads=[
            transaction_payload(amount="12500.00", currency="USD"),
            transaction_payload(amount="12000.00", currency="JPY"),  # no rate: fails
        ],
    )
    backtest = backtest_request(
        version=rule.version,
        occurred_after=NOW - timedelta(hours=1),
        occurred_before=NOW + timedelta(hours=1),
        partner=euro_bank,
        actor=factories.officer(),
    )
    done = backtest_run(backtest_id=backtest.pk)
    assert (done.result["transactions_hit"], done.result["failures"]) == (1, 1), done.error
    assert done.result["samples"][0]["transaction_id"] == str(results[0].id)


def test_a_transaction_late_at_night_uses_its_utc_date(euro_bank):
    late = datetime.combine(TODAY - timedelta(days=2), datetime.max.time(), tzinfo=UTC)
    ecb(TODAY - timedelta(days=2), USD="2")
    ecb(TODAY - timedelta(days=1), USD="4")
    factories.only_these_rules(factories.rule(code="any_base", expression="amount_base >= 1"))
    (decision,) = score(
        euro_bank,
        transaction_payload(amount="10.00", currency="USD", occurred_at=late.isoformat()),
    )
    assert "5.00 EUR" in decision.hits.get().explanation


# --- Rolling aggregates over amount_base ------------------------------------------------------


def test_a_sum_over_amount_base_adds_every_currency_at_the_days_rate(euro_bank):
    # Given rates of the day and a rule on an account's 7-day total in the reporting currency
    ecb(TODAY, USD="1.25", GBP="0.80")
    factories.only_these_rules(
        factories.rule(
            code="euro_total",
            expression='sum(amount_base, by="account", within="7d") >= 20000',
            outcome="review",
        )
    )

    # When one account pays 12,500 USD (10,000 EUR), then 4,000 GBP (5,000 EUR), then 5,000 EUR
    first, second, third = score(
        euro_bank,
        transaction_payload(amount="12500.00", currency="USD", occurred_at=_ago(minutes=30)),
        transaction_payload(amount="4000.00", currency="GBP", occurred_at=_ago(minutes=20)),
        transaction_payload(amount="5000.00", currency="EUR", occurred_at=_ago(minutes=10)),
    )

    # Then only the third reaches 20,000.00 EUR, and its explanation says so in euros
    assert (first.outcome, second.outcome, third.outcome) == ("allow", "allow", "review")
    assert third.hits.get().explanation == (
        "sum(amount_base, by account, 7d) = 20,000.00 >= 20,000"
    )


def test_a_currency_in_the_window_without_a_rate_leaves_the_total_without_a_value(euro_bank):
    # Given a rate for USD only, and an account that paid in JPY, then in USD
    ecb(TODAY, USD="1.25")
    factories.only_these_rules(
        factories.rule(
            code="euro_total",
            expression='sum(amount_base, by="account", within="7d") >= 1',
            outcome="review",
        )
    )
    _, dollars = score(
        euro_bank,
        transaction_payload(amount="1000", currency="JPY", occurred_at=_ago(minutes=20)),
        transaction_payload(amount="100.00", currency="USD", occurred_at=_ago(minutes=10)),
    )

    # Then the USD transaction's total is not a total without the yen: the rule fails for it
    assert dollars.outcome == "allow"
    failure = RuleFailure.objects.get(transaction_id=dollars.pk)
    assert "sum(amount_base, by account, 7d)" in failure.message


@pytest.mark.parametrize(
    ("function", "figures", "expected"),
    [
        ("sum", {}, Decimal("0.00")),
        ("sum", {"USD": (Decimal("0.05"), 1), "GBP": (Decimal("0.03"), 1)}, Decimal("0.08")),
        ("avg", {}, None),
        ("avg", {"USD": (Decimal("10.00"), 2), "EUR": (Decimal("1.00"), 1)}, Decimal("3.00")),
        ("avg", {"USD": (Decimal("0.05"), 2), "EUR": (Decimal("0.01"), 1)}, Decimal("0.02")),
        ("max", {"USD": (Decimal("10.00"), 1), "GBP": (Decimal("9.00"), 1)}, Decimal("11.25")),
        ("min", {"USD": (Decimal("10.00"), 1), "GBP": (Decimal("9.00"), 1)}, Decimal("8.00")),
        ("sum", {"USD": (Decimal("1.00"), 1), "JPY": (Decimal("5"), 1)}, None),
    ],
)
def test_currency_figures_convert_then_round_once_half_even(function, figures, expected):
    # Given rates into EUR: 0.8 per USD, 1.25 per GBP, 1 per EUR, none for JPY
    rates = {"USD": Decimal("0.8"), "GBP": Decimal("1.25"), "EUR": Decimal(1)}

    # When the figures are converted into euros (2 decimals)
    value = CurrencyFigures(function, figures).in_currency(rates.get, 2)

    # Then every currency is converted before one rounding (0.04 + 0.0375 = 0.0775 -> 0.08;
    # (0.04 + 0.01) / 3 = 0.01666 -> 0.02), and a currency without a rate leaves no value
    assert value == expected
    if expected is not None:
        assert value.as_tuple().exponent == -2


def _ago(**delta) -> str:
    return (NOW - timedelta(**delta)).isoformat().replace("+00:00", "Z")
