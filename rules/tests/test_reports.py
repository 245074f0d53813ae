"""detection_report: labelled accounts the live rules of their typology found; normal ones hit."""

from __future__ import annotations

import json

import pytest

from rules import engine, reports
from rules.choices import RuleStatus, Typology
from rules.models import Rule, TypologyLabel
from sentinel.pipeline.orchestrator import transactions_process
from sentinel.testing import command_output
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db


def _party(account: str, country: str = "US") -> dict:
    return {"account_id": account, "name": f"Holder {account}", "country": country}


def _cash_deposit(account: str, amount: str) -> dict:
    return transaction_payload(
        type="cash_deposit",
        direction="inbound",
        amount=amount,
        originator={},
        beneficiary=_party(account),
    )


def _wire(account: str, to_country: str) -> dict:
    return transaction_payload(
        type="wire",
        amount="900.00",
        originator=_party(account),
        beneficiary=_party("Z", to_country),
    )


def _p2p(account: str) -> dict:
    return transaction_payload(type="p2p", amount="50.00", originator=_party(account))


def _label(partner, account: str, typology: str) -> None:
    TypologyLabel.objects.create(
        partner=partner, account_external_id=account, typology=typology, source="test"
    )


@pytest.fixture
def population():
    """Two large-cash accounts (one hit by a large-cash rule, one only by the high-risk rule),
    a structuring account nothing caught, and two normal accounts, one of them hit."""
    partner = PartnerBankFactory()
    _label(partner, "A-cash", Typology.LARGE_CASH)
    _label(partner, "C-cash", Typology.LARGE_CASH)
    _label(partner, "B-struct", Typology.STRUCTURING)
    payloads = [
        _cash_deposit("A-cash", "12000.00"),
        _wire("C-cash", "IR"),
        _p2p("B-struct"),
        _cash_deposit("D-normal", "15000.00"),
        _p2p("E-normal"),
    ]
    results = transactions_ingest(partner=partner, payloads=payloads)
    transactions_process(transaction_ids=[result.id for result in results])
    return partner


def test_a_labelled_account_counts_only_with_a_live_hit_from_a_rule_of_its_typology(population):
    figures = {row.typology: row for row in reports.detection_report()}

    assert [row.typology for row in reports.detection_report()] == list(Typology.values)
    assert (figures["large_cash"].planted, figures["large_cash"].detected) == (2, 1)
    assert (figures["structuring"].planted, figures["structuring"].detected) == (1, 0)
    assert figures["fan_in"].planted == 0 and figures["fan_in"].share is None


def test_overall_figures_count_any_live_hit_on_labelled_and_normal_accounts(population):
    figures = reports.detection_figures()

    assert (figures.planted.accounts, figures.planted.hit) == (3, 2)
    assert (figures.normal.accounts, figures.normal.hit) == (2, 1)
    assert figures.normal.share == 0.5


def test_shadow_hits_never_count(population):
    Rule.objects.exclude(code="high_risk_jurisdiction").update(status=RuleStatus.SHADOW)
    engine.forget()  # what rules_changed() does after a commit
    partner = PartnerBankFactory()
    _label(partner, "F-cash", Typology.LARGE_CASH)
    results = transactions_ingest(partner=partner, payloads=[_cash_deposit("F-cash", "50000.00")])
    transactions_process(transaction_ids=[results[0].id])

    figures = {row.typology: row for row in reports.detection_report()}

    assert (figures["large_cash"].planted, figures["large_cash"].detected) == (3, 1)


def test_the_command_prints_each_typology_and_the_normal_accounts(population):
    output = command_output("detection_report")

    assert "large_cash" in output and "50.0%" in output
    assert "Normal accounts: 2, with any live hit: 1 (50.0%)." in output
    assert "not met" in output


def test_the_command_answers_json(population):
    figures = json.loads(command_output("detection_report", "--json"))

    large_cash = next(row for row in figures["typologies"] if row["typology"] == "large_cash")
    assert (large_cash["planted"], large_cash["detected"], large_cash["share"]) == (2, 1, 0.5)
    assert figures["normal"] == {"accounts": 2, "hit": 1, "share": 0.5}
    assert figures["unscored"] == 0 and figures["target_met"] is False


def test_without_labels_the_command_says_to_seed_first():
    assert "run `manage.py seed_demo` first" in command_output("detection_report")
