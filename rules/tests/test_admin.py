"""The compliance officer's admin: writing, checking, trying, approving and back-testing rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from rules.choices import BacktestState, ChangeState, RuleStatus
from rules.models import Backtest, Rule, RuleList
from rules.tests import factories
from sentinel.pipeline.orchestrator import transactions_process
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/rules/rule/add/"


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(**overrides) -> dict:
    data = {
        "code": "big_cash",
        "name": "Big cash",
        "description": "",
        "expression": 'amount >= 10000 and type == "cash_deposit"',
        "severity": "high",
        "score": "50",
        "outcome": "review",
        "suppression": "24h",
        "comment": "New rule",
    }
    data.update(overrides)
    return data


def test_an_officer_creates_a_rule_as_a_draft():
    alice = _client_for(factories.officer())
    response = alice.post(ADD_URL, _form())
    assert response.status_code == 302, response.content
    rule = Rule.objects.get(code="big_cash")
    assert rule.status == RuleStatus.DRAFT
    assert rule.version.expression == 'amount >= 10000 and type == "cash_deposit"'
    assert rule.version.suppression_seconds == 86400


def test_a_bad_expression_is_shown_back_with_its_position_and_nothing_is_saved():
    alice = _client_for(factories.officer())
    response = alice.post(ADD_URL, _form(expression="amount >= 10000 and amout < 5"))
    assert response.status_code == 200
    assert "amout" in response.content.decode()
    assert "column" in response.content.decode()
    assert not Rule.objects.filter(code="big_cash").exists()


def test_the_expression_is_checked_as_the_officer_types():
    alice = _client_for(factories.officer())
    bad = alice.post("/admin/rules/rule/validate/", {"expression": "amount >"}).json()
    good = alice.post(
        "/admin/rules/rule/validate/",
        {"expression": 'sum(amount, by="account", within="7d") > 5'},
    ).json()
    assert bad["ok"] is False and bad["line"] == 1
    assert good == {"ok": True, "aggregates": ["sum(amount, by account, 7d)"]}


def test_going_live_from_the_admin_needs_another_officer():
    alice_user, bob_user = factories.officer("alice"), factories.officer("bob")
    alice, bob = _client_for(alice_user), _client_for(bob_user)
    alice.post(ADD_URL, _form())
    rule = Rule.objects.get(code="big_cash")

    alice.post(f"/admin/rules/rule/{rule.pk}/status/", {"target_status": "live"})
    change = rule.changes.get(state=ChangeState.PENDING)
    page = alice.get(f"/admin/rules/rule/{rule.pk}/change/").content.decode()
    assert "Another compliance officer must approve it" in page
    alice.post(f"/admin/rules/rule/change/{change.pk}/approve/")
    rule.refresh_from_db()
    assert rule.status == RuleStatus.DRAFT

    page = bob.get(f"/admin/rules/rule/{rule.pk}/change/").content.decode()
    assert "Approve" in page
    bob.post(f"/admin/rules/rule/change/{change.pk}/approve/", {"comment": "ok"})
    rule.refresh_from_db()
    assert rule.status == RuleStatus.LIVE


def test_editing_a_live_rule_in_the_admin_keeps_the_old_version_until_approved():
    alice = _client_for(factories.officer())
    rule = factories.rule(code="big_cash", expression="amount >= 10000")
    response = alice.post(
        f"/admin/rules/rule/{rule.pk}/change/", _form(expression="amount >= 9000")
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.version.expression == "amount >= 10000"
    assert rule.changes.get(state=ChangeState.PENDING).version.expression == "amount >= 9000"


def test_the_rule_list_shows_hit_counts():
    alice = _client_for(factories.officer())
    factories.rule(code="big_cash")
    page = alice.get("/admin/rules/rule/").content.decode()
    assert "big_cash" in page
    assert "Hits 24 h" in page and "Shadow hits 7 d" in page


def test_try_it_evaluates_a_pasted_transaction_with_its_aggregates():
    partner = PartnerBankFactory()
    alice = _client_for(factories.officer())
    rule = factories.rule(
        code="busy", expression='amount >= 100 and count(by="account", within="1h") >= 1'
    )
    payload = transaction_payload(amount="250.00")
    import json

    response = alice.post(
        f"/admin/rules/rule/{rule.pk}/try/",
        {"partner": partner.pk, "payload": json.dumps(payload)},
    )
    page = response.content.decode()
    assert "<h2>Hit</h2>" in page
    assert "count(by account, 1h) = 1" in page


def test_try_it_names_what_is_wrong_with_the_pasted_json():
    partner = PartnerBankFactory()
    alice = _client_for(factories.officer())
    rule = factories.rule(code="busy")
    response = alice.post(
        f"/admin/rules/rule/{rule.pk}/try/",
        {"partner": partner.pk, "payload": '{"amount": "-5"}'},
    )
    page = response.content.decode()
    assert "amount" in page and "external_id" in page


def test_a_backtest_reports_hits_over_stored_traffic():
    partner = PartnerBankFactory()
    alice_user = factories.officer()
    rule = factories.rule(code="big", expression="amount >= 1000", status=RuleStatus.DRAFT)
    factories.only_these_rules()
    now = datetime.now(UTC)
    payloads = [
        transaction_payload(amount=amount, occurred_at=(now - timedelta(hours=1)).isoformat())
        for amount in ("5000.00", "20.00", "1500.00")
    ]
    ids = [r.id for r in transactions_ingest(partner=partner, payloads=payloads)]
    transactions_process(transaction_ids=ids)

    alice = _client_for(alice_user)
    response = alice.post(
        f"/admin/rules/rule/{rule.pk}/backtest/",
        {
            "occurred_after": (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
            "occurred_before": (now + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M"),
        },
    )
    # Celery runs eagerly in tests, after the commit
    assert response.status_code == 302
    backtest = Backtest.objects.get()
    from rules.services import backtest_run

    backtest = backtest_run(backtest_id=backtest.pk)
    assert backtest.state == BacktestState.DONE
    assert (backtest.total, backtest.processed) == (3, 3)
    assert backtest.result["transactions_hit"] == 2
    assert backtest.result["accounts_hit"] == 1
    page = alice.get(f"/admin/rules/rule/backtest/{backtest.pk}/").content.decode()
    assert "<strong>2</strong> of 3 transactions" in page


def test_a_backtest_range_is_checked():
    alice = _client_for(factories.officer())
    rule = factories.rule(code="big")
    response = alice.post(
        f"/admin/rules/rule/{rule.pk}/backtest/",
        {"occurred_after": "2026-01-10 00:00", "occurred_before": "2026-01-01 00:00"},
    )
    assert "must come after" in response.content.decode()
    assert not Backtest.objects.exists()


def test_list_import_and_export_round_trip():
    alice = _client_for(factories.officer())
    rule_list = RuleList.objects.create(name="watch", kind="name")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("w.csv", "value,note\nJosé Pérez,PEP\n".encode())
    response = alice.post(f"/admin/rules/rulelist/{rule_list.pk}/import/", {"file": upload})
    assert response.status_code == 302
    exported = alice.get(f"/admin/rules/rulelist/{rule_list.pk}/export/")
    assert exported["Content-Type"].startswith("text/csv")
    assert exported.content.decode() == "value,note\r\nJosé Pérez,PEP\r\n"


def test_a_bad_csv_is_refused_with_row_numbers():
    alice = _client_for(factories.officer())
    rule_list = RuleList.objects.create(name="ctry", kind="country")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("c.csv", b"IR\nZZ\n")
    response = alice.post(f"/admin/rules/rulelist/{rule_list.pk}/import/", {"file": upload})
    assert response.status_code == 200
    assert "row 2" in response.content.decode()
    assert not rule_list.entries.exists()


def test_investigators_cannot_change_rules():
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("ivy", is_staff=True)
    user.groups.add(Group.objects.get(name="Investigator"))
    ivy = _client_for(user)
    rule = factories.rule(code="big")
    assert ivy.post(ADD_URL, _form(code="other")).status_code == 403
    response = ivy.post(f"/admin/rules/rule/{rule.pk}/status/", {"target_status": "paused"})
    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.status == RuleStatus.LIVE
