"""The rule pages (rules.views), as staff reach them under /admin/: each page's happy path,
who is turned away, and bad input that changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rules import selectors, services
from rules.choices import ChangeState, RuleStatus
from rules.models import Backtest, RuleChange, RuleList
from rules.tests import factories
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db

CONTENT = {"name": "Test rule", "severity": "high", "score": 50, "outcome": "alert"}
RULES = "/admin/rules/rule"
LISTS = "/admin/rules/rulelist"


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


@pytest.fixture
def alice() -> User:
    return factories.officer("alice")


@pytest.fixture
def bob() -> User:
    return factories.officer("bob")


@pytest.fixture
def ivy() -> Client:
    return _client_for(factories.investigator("ivy"))


# --- validate ----------------------------------------------------------------------------------


def test_validate_answers_with_the_aggregates_or_the_positioned_error(alice):
    client = _client_for(alice)
    good = client.post(f"{RULES}/validate/", {"expression": 'count(by="ip", within="1h") > 3'})
    bad = client.post(f"{RULES}/validate/", {"expression": "amount > 1 and"})
    assert good.json() == {"ok": True, "aggregates": ["count(by ip, 1h)"]}
    assert bad.json()["ok"] is False and bad.json()["column"] > 1


def test_validate_names_an_unknown_list(alice):
    body = (
        _client_for(alice)
        .post(f"{RULES}/validate/", {"expression": 'counterparty.country in list("nope")'})
        .json()
    )
    assert body["ok"] is False and "nope" in body["error"]


def test_validate_refuses_get_and_anonymous_and_staff_without_rule_permissions():
    nobody = User.objects.create_user("nobody", is_staff=True)
    assert _client_for(factories.officer()).get(f"{RULES}/validate/").status_code == 405
    anonymous = Client().post(f"{RULES}/validate/", {"expression": "amount > 1"})
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    forbidden = _client_for(nobody).post(f"{RULES}/validate/", {"expression": "amount > 1"})
    assert forbidden.status_code == 403


# --- status ------------------------------------------------------------------------------------


def test_status_moves_a_draft_into_shadow_at_once(alice):
    rule = factories.rule(status=RuleStatus.DRAFT)
    response = _client_for(alice).post(
        f"{RULES}/{rule.pk}/status/", {"target_status": "shadow"}, follow=True
    )
    rule.refresh_from_db()
    assert rule.status == RuleStatus.SHADOW
    assert "The rule is now shadow." in _messages(response)


def test_status_is_refused_to_an_investigator(ivy):
    rule = factories.rule(status=RuleStatus.DRAFT)
    assert ivy.post(f"{RULES}/{rule.pk}/status/", {"target_status": "shadow"}).status_code == 403
    rule.refresh_from_db()
    assert rule.status == RuleStatus.DRAFT


@pytest.mark.parametrize("target", ["sleeping", "", "LIVE"])
def test_status_with_an_unknown_target_changes_nothing(alice, target):
    rule = factories.rule(status=RuleStatus.DRAFT)
    response = _client_for(alice).post(
        f"{RULES}/{rule.pk}/status/", {"target_status": target}, follow=True
    )
    rule.refresh_from_db()
    assert rule.status == RuleStatus.DRAFT
    assert not rule.changes.exists()
    assert _messages(response)


def test_status_of_an_unknown_rule_is_a_404(alice):
    assert (
        _client_for(alice).post(f"{RULES}/999999/status/", {"target_status": "shadow"}).status_code
        == 404
    )


# --- decide ------------------------------------------------------------------------------------


def _go_live_request(requester) -> RuleChange:
    rule = factories.rule(status=RuleStatus.SHADOW)
    _client_for(requester).post(f"{RULES}/{rule.pk}/status/", {"target_status": "live"})
    return rule.changes.get(state=ChangeState.PENDING)


def test_decide_approves_another_officers_request(alice, bob):
    change = _go_live_request(alice)
    response = _client_for(bob).post(
        f"{RULES}/change/{change.pk}/approve/", {"comment": "ok"}, follow=True
    )
    change.rule.refresh_from_db()
    assert change.rule.status == RuleStatus.LIVE
    assert "Change approved." in _messages(response)


def test_decide_refuses_an_investigator(alice, ivy):
    change = _go_live_request(alice)
    response = ivy.post(f"{RULES}/change/{change.pk}/approve/", follow=True)
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING
    assert "Only compliance officers" in _messages(response)


def test_decide_with_an_unknown_decision_is_a_400_and_changes_nothing(alice, bob):
    change = _go_live_request(alice)
    response = _client_for(bob).post(f"{RULES}/change/{change.pk}/promote/")
    change.refresh_from_db()
    assert response.status_code == 400
    assert b"approve, reject or withdraw" in response.content
    assert change.state == ChangeState.PENDING


def test_decide_refuses_get(alice, bob):
    change = _go_live_request(alice)
    assert _client_for(bob).get(f"{RULES}/change/{change.pk}/approve/").status_code == 405
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING


def test_a_rejection_without_a_reason_is_refused_with_a_message(alice, bob):
    change = _go_live_request(alice)
    response = _client_for(bob).post(f"{RULES}/change/{change.pk}/reject/", follow=True)
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING
    assert "Say why" in _messages(response)


# --- restore -----------------------------------------------------------------------------------


def _two_versions(author=None):
    rule = factories.rule(status=RuleStatus.DRAFT, expression="amount >= 1", author=author)
    services.rule_version_create(rule=rule, author=author, expression="amount >= 2", **CONTENT)
    rule.refresh_from_db()
    return rule


def test_restore_brings_an_old_version_back_as_a_new_one(alice):
    rule = _two_versions()
    first = rule.versions.get(number=1)
    response = _client_for(alice).post(f"{RULES}/{rule.pk}/restore/{first.pk}/", follow=True)
    rule.refresh_from_db()
    assert (rule.version.number, rule.version.expression) == (3, "amount >= 1")
    assert "Version 1 restored as version 3." in _messages(response)


def test_restore_is_refused_to_an_investigator(ivy):
    rule = _two_versions()
    first = rule.versions.get(number=1)
    assert ivy.post(f"{RULES}/{rule.pk}/restore/{first.pk}/").status_code == 403
    assert rule.versions.count() == 2


def test_restore_of_another_rules_version_is_a_404(alice):
    rule, other = _two_versions(), factories.rule(status=RuleStatus.DRAFT)
    response = _client_for(alice).post(f"{RULES}/{rule.pk}/restore/{other.version_id}/")
    assert response.status_code == 404
    assert rule.versions.count() == 2 and other.versions.count() == 1


# --- try ---------------------------------------------------------------------------------------


def test_try_shows_whether_a_pasted_transaction_hits(alice):
    partner = PartnerBankFactory()
    rule = factories.rule(expression="amount >= 1000")
    response = _client_for(alice).post(
        f"{RULES}/{rule.pk}/try/",
        {"partner": partner.pk, "payload": json.dumps(transaction_payload(amount="1500.00"))},
    )
    assert response.status_code == 200
    assert "<h2>Hit</h2>" in response.content.decode()


def test_try_an_earlier_version_by_its_id(alice):
    rule = _two_versions()
    first = rule.versions.get(number=1)
    page = _client_for(alice).get(f"{RULES}/{rule.pk}/try/?version={first.pk}").content.decode()
    assert f"Try {rule.code} v1" in page


def test_investigators_may_try_a_rule_but_staff_without_rule_permissions_may_not(ivy):
    rule = factories.rule()
    nobody = _client_for(User.objects.create_user("nobody", is_staff=True))
    assert ivy.get(f"{RULES}/{rule.pk}/try/").status_code == 200
    assert nobody.get(f"{RULES}/{rule.pk}/try/").status_code == 403


@pytest.mark.parametrize("version", ["foreign", "abc", "99999999"])
def test_try_with_a_version_that_is_not_the_rules_is_a_404(alice, version):
    rule, other = factories.rule(), factories.rule()
    version_id = other.version_id if version == "foreign" else version
    response = _client_for(alice).get(f"{RULES}/{rule.pk}/try/?version={version_id}")
    assert response.status_code == 404


def test_try_names_bad_json(alice):
    partner = PartnerBankFactory()
    rule = factories.rule()
    response = _client_for(alice).post(
        f"{RULES}/{rule.pk}/try/", {"partner": partner.pk, "payload": "{not json"}
    )
    assert "Not valid JSON" in response.content.decode()


# --- back-test ---------------------------------------------------------------------------------


def _range() -> dict:
    now = datetime.now(UTC)
    return {
        "occurred_after": (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
        "occurred_before": now.strftime("%Y-%m-%d %H:%M"),
    }


def test_backtest_starts_and_its_page_shows_progress(alice):
    rule = factories.rule()
    client = _client_for(alice)
    assert client.get(f"{RULES}/{rule.pk}/backtest/").status_code == 200
    response = client.post(f"{RULES}/{rule.pk}/backtest/", _range())
    backtest = Backtest.objects.get()
    assert response["Location"] == f"{RULES}/backtest/{backtest.pk}/"
    assert backtest.rule_version == rule.version
    page = client.get(f"{RULES}/backtest/{backtest.pk}/").content.decode()
    assert f"Back-test #{backtest.pk}" in page and rule.code in page


def test_backtest_of_another_rules_version_is_a_404(alice):
    rule, other = factories.rule(), factories.rule()
    response = _client_for(alice).post(
        f"{RULES}/{rule.pk}/backtest/?version={other.version_id}", _range()
    )
    assert response.status_code == 404
    assert not Backtest.objects.exists()


def test_investigators_may_not_start_a_backtest(ivy):
    rule = factories.rule()
    assert ivy.get(f"{RULES}/{rule.pk}/backtest/").status_code == 200
    assert ivy.post(f"{RULES}/{rule.pk}/backtest/", _range()).status_code == 403
    assert not Backtest.objects.exists()


def test_backtest_detail_is_closed_to_staff_without_rule_permissions_and_404s_unknown(alice):
    rule = factories.rule()
    _client_for(alice).post(f"{RULES}/{rule.pk}/backtest/", _range())
    backtest = Backtest.objects.get()
    nobody = _client_for(User.objects.create_user("nobody", is_staff=True))
    assert nobody.get(f"{RULES}/backtest/{backtest.pk}/").status_code == 403
    assert _client_for(alice).get(f"{RULES}/backtest/999999/").status_code == 404


# --- list import and export --------------------------------------------------------------------


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("list.csv", text.encode())


def test_import_adds_entries_and_export_gives_them_back(alice):
    rule_list = RuleList.objects.create(name="watch_ips", kind="ip")
    client = _client_for(alice)
    response = client.post(
        f"{LISTS}/{rule_list.pk}/import/", {"file": _csv("203.0.113.0/24,range\n")}, follow=True
    )
    assert "1 added" in _messages(response)
    export = client.get(f"{LISTS}/{rule_list.pk}/export/")
    assert export["Content-Disposition"] == 'attachment; filename="watch_ips.csv"'
    assert export.content.decode() == "value,note\r\n203.0.113.0/24,range\r\n"


def test_import_is_refused_to_an_investigator_who_may_still_export(ivy):
    rule_list = factories.rule_list("ctry_watch", "country", ["IR"])
    response = ivy.post(f"{LISTS}/{rule_list.pk}/import/", {"file": _csv("KP\n")})
    assert response.status_code == 403
    assert list(rule_list.entries.values_list("value", flat=True)) == ["IR"]
    assert ivy.get(f"{LISTS}/{rule_list.pk}/export/").status_code == 200


def test_export_is_closed_to_staff_without_list_permissions():
    rule_list = factories.rule_list("ctry_watch", "country", ["IR"])
    nobody = _client_for(User.objects.create_user("nobody", is_staff=True))
    assert nobody.get(f"{LISTS}/{rule_list.pk}/export/").status_code == 403


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"IR\nZZ\n", "row 2"), (b"\xff\xfe\x00bad", "not UTF-8"), (b"IR,a,b\n", "3 columns")],
)
def test_a_bad_import_file_is_shown_back_and_imports_nothing(alice, content, problem):
    rule_list = RuleList.objects.create(name="ctry", kind="country")
    upload = SimpleUploadedFile("c.csv", content)
    response = _client_for(alice).post(f"{LISTS}/{rule_list.pk}/import/", {"file": upload})
    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not rule_list.entries.exists()


def test_import_into_an_unknown_list_is_a_404(alice):
    response = _client_for(alice).post(f"{LISTS}/999999/import/", {"file": _csv("IR\n")})
    assert response.status_code == 404


def test_an_investigator_sees_a_rules_page_read_only(ivy):
    rule = factories.rule(code="seen_rule")
    page = ivy.get(f"{RULES}/{rule.pk}/change/")
    assert page.status_code == 200
    assert "seen_rule" in page.content.decode()


# --- Four eyes through the pages ---------------------------------------------------------------


def _rule_form(rule, **overrides) -> dict:
    data = {
        "code": rule.code,
        "name": rule.version.name,
        "expression": rule.version.expression,
        "severity": rule.version.severity,
        "score": str(rule.version.score),
        "outcome": rule.version.outcome,
        "suppression": "24h",
        "comment": "",
    }
    return {**data, **overrides}


def test_the_requester_approving_through_the_page_is_refused(alice):
    change = _go_live_request(alice)
    response = _client_for(alice).post(f"{RULES}/change/{change.pk}/approve/", follow=True)
    change.refresh_from_db()
    change.rule.refresh_from_db()
    assert change.state == ChangeState.PENDING
    assert change.rule.status == RuleStatus.SHADOW
    assert "another compliance officer" in _messages(response)


def test_the_author_approving_through_the_page_is_refused_and_told_why(alice, bob):
    # Given Bob wrote version 2 of a shadow rule and Alice asked for it to go live
    rule = factories.rule(status=RuleStatus.SHADOW)
    services.rule_version_create(rule=rule, author=bob, expression="amount >= 1", **CONTENT)
    _client_for(alice).post(f"{RULES}/{rule.pk}/status/", {"target_status": "live"})
    change = rule.changes.get(state=ChangeState.PENDING)
    bob_client = _client_for(bob)

    # Then Bob's page says why he cannot approve, without an Approve button
    page = bob_client.get(f"{RULES}/{rule.pk}/change/").content.decode()
    assert "You wrote the version this change puts live" in page
    assert 'value="Approve"' not in page

    # And posting the approval anyway is refused
    response = bob_client.post(f"{RULES}/change/{change.pk}/approve/", follow=True)
    rule.refresh_from_db()
    assert rule.status == RuleStatus.SHADOW
    assert "You wrote the version" in _messages(response)


def test_editing_a_rule_with_a_pending_request_is_refused_in_the_form(alice, bob):
    rule = factories.rule(status=RuleStatus.SHADOW, expression="amount >= 10000")
    _client_for(alice).post(f"{RULES}/{rule.pk}/status/", {"target_status": "live"})
    response = _client_for(bob).post(
        f"{RULES}/{rule.pk}/change/", _rule_form(rule, expression="amount >= 1")
    )
    assert response.status_code == 200
    assert "awaiting approval: it cannot be edited" in response.content.decode()
    rule.refresh_from_db()
    assert (rule.versions.count(), rule.version.expression) == (1, "amount >= 10000")


def test_restoring_or_moving_a_rule_with_a_pending_request_is_refused(alice, bob):
    rule = factories.rule(status=RuleStatus.SHADOW, expression="amount >= 10000")
    services.rule_version_create(rule=rule, author=alice, expression="amount >= 5", **CONTENT)
    first = rule.versions.get(number=1)
    _client_for(alice).post(f"{RULES}/{rule.pk}/status/", {"target_status": "live"})
    client = _client_for(bob)
    restore = client.post(f"{RULES}/{rule.pk}/restore/{first.pk}/", follow=True)
    move = client.post(f"{RULES}/{rule.pk}/status/", {"target_status": "draft"}, follow=True)
    rule.refresh_from_db()
    assert "awaiting approval" in _messages(restore) and "awaiting approval" in _messages(move)
    assert (rule.versions.count(), rule.status) == (2, RuleStatus.SHADOW)


def test_a_swapped_version_is_refused_at_approval_through_the_page(alice, bob):
    rule = factories.rule(status=RuleStatus.SHADOW)
    services.rule_version_create(rule=rule, author=alice, expression="amount >= 5", **CONTENT)
    _client_for(alice).post(f"{RULES}/{rule.pk}/status/", {"target_status": "live"})
    change = rule.changes.get(state=ChangeState.PENDING)
    type(rule).objects.filter(pk=rule.pk).update(version=rule.versions.get(number=1))
    response = _client_for(bob).post(f"{RULES}/change/{change.pk}/approve/", follow=True)
    rule.refresh_from_db()
    assert rule.status == RuleStatus.SHADOW
    assert "changed since this request" in _messages(response)


def test_pausing_a_live_rule_through_the_page_waits_for_a_second_officer(alice, bob):
    rule = factories.rule()
    response = _client_for(alice).post(
        f"{RULES}/{rule.pk}/status/", {"target_status": "paused"}, follow=True
    )
    rule.refresh_from_db()
    assert rule.status == RuleStatus.LIVE
    assert "waits for another officer's approval" in _messages(response)
    change = rule.changes.get(state=ChangeState.PENDING)
    _client_for(alice).post(f"{RULES}/change/{change.pk}/approve/")
    rule.refresh_from_db()
    assert rule.status == RuleStatus.LIVE

    _client_for(bob).post(f"{RULES}/change/{change.pk}/approve/")
    rule.refresh_from_db()
    assert rule.status == RuleStatus.PAUSED


def _list_form(rule_list, delete=()) -> dict:
    entries = list(rule_list.entries.order_by("pk"))
    data = {
        "description": rule_list.description,
        "source": rule_list.source,
        "entries-TOTAL_FORMS": str(len(entries) + 1),
        "entries-INITIAL_FORMS": str(len(entries)),
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
    }
    for number, entry in enumerate(entries):
        data.update(
            {
                f"entries-{number}-id": str(entry.pk),
                f"entries-{number}-rule_list": str(rule_list.pk),
                f"entries-{number}-value": entry.value,
                f"entries-{number}-note": entry.note,
            }
        )
        if entry.value in delete:
            data[f"entries-{number}-DELETE"] = "on"
    data[f"entries-{len(entries)}-rule_list"] = str(rule_list.pk)
    return data


def test_deleting_a_list_entry_in_the_admin_waits_for_a_second_officer(alice, bob):
    # Given a sanctions list, and Alice deleting an entry on its page
    rule_list = factories.rule_list("sanctions_x", "name", ["Acme Ltd", "Evil Corp"])
    response = _client_for(alice).post(
        f"{LISTS}/{rule_list.pk}/change/", _list_form(rule_list, delete=["Evil Corp"]), follow=True
    )
    # Then the entry is still there, and the request shows on the list's page
    assert "takes effect when another compliance officer approves" in _messages(response)
    assert rule_list.entries.count() == 2
    change = rule_list.changes.get(state=ChangeState.PENDING)
    page = _client_for(bob).get(f"{LISTS}/{rule_list.pk}/change/").content.decode()
    assert "remove 1 entries: Evil Corp" in page and 'value="Approve"' in page

    # When Alice approves it herself, nothing happens; when Bob does, the entry is gone
    _client_for(alice).post(f"{RULES}/change/{change.pk}/approve/")
    assert rule_list.entries.count() == 2
    response = _client_for(bob).post(f"{RULES}/change/{change.pk}/approve/")
    assert response["Location"] == f"{LISTS}/{rule_list.pk}/change/"
    assert list(rule_list.entries.values_list("value", flat=True)) == ["Acme Ltd"]


def test_an_entry_value_cannot_be_rewritten_in_place(alice):
    rule_list = factories.rule_list("sanctions_x", "name", ["Evil Corp"])
    data = _list_form(rule_list)
    data["entries-0-value"] = "Nobody At All"
    _client_for(alice).post(f"{LISTS}/{rule_list.pk}/change/", data)
    assert list(rule_list.entries.values_list("value", flat=True)) == ["Evil Corp"]


def test_importing_a_replacing_file_through_the_page_removes_only_on_approval(alice, bob):
    rule_list = factories.rule_list("ctry_x", "country", ["IR", "KP"])
    response = _client_for(alice).post(
        f"{LISTS}/{rule_list.pk}/import/",
        {"file": _csv("KP\nMM\n"), "replace": "on", "comment": "new FATF list"},
        follow=True,
    )
    assert "approval: remove 1 entries: IR" in _messages(response)
    assert sorted(rule_list.entries.values_list("value", flat=True)) == ["IR", "KP", "MM"]
    change = rule_list.changes.get(state=ChangeState.PENDING)
    _client_for(bob).post(f"{RULES}/change/{change.pk}/approve/")
    assert sorted(rule_list.entries.values_list("value", flat=True)) == ["KP", "MM"]


def test_raising_thresholds_in_the_admin_waits_for_a_second_officer(alice, bob):
    url = "/admin/rules/decisionthresholds/1/change/"
    response = _client_for(alice).post(
        url, {"review_score": "400", "block_score": "900"}, follow=True
    )
    assert "takes effect when another compliance officer approves" in _messages(response)
    assert "changed successfully" not in _messages(response)
    assert selectors.thresholds_scores() == {"review_score": 100, "block_score": 300}

    page = _client_for(bob).get(url).content.decode()
    assert "review at 100 → 400" in page and 'value="Approve"' in page
    change = RuleChange.objects.get(state=ChangeState.PENDING)
    _client_for(alice).post(f"{RULES}/change/{change.pk}/approve/")
    assert selectors.thresholds_scores() == {"review_score": 100, "block_score": 300}
    response = _client_for(bob).post(f"{RULES}/change/{change.pk}/approve/")
    assert response["Location"] == url
    assert selectors.thresholds_scores() == {"review_score": 400, "block_score": 900}


def test_thresholds_cannot_be_saved_while_a_raise_waits(alice, bob):
    url = "/admin/rules/decisionthresholds/1/change/"
    _client_for(alice).post(url, {"review_score": "400", "block_score": "900"})
    response = _client_for(bob).post(url, {"review_score": "10", "block_score": "20"})
    assert response.status_code == 200
    assert "awaiting approval" in response.content.decode()
    assert selectors.thresholds_scores() == {"review_score": 100, "block_score": 300}


def test_the_change_requests_page_links_each_request_to_where_it_is_decided(alice):
    rule = factories.rule(code="paused_soon")
    rule_list = factories.rule_list("ctry_x", "country", ["IR"])
    services.rule_status_change(rule=rule, target_status="paused", actor=alice)
    services.list_entries_edit(rule_list=rule_list, actor=alice, removed=[rule_list.entries.get()])
    services.decision_thresholds_update(review_score=500, block_score=900, actor=alice)
    page = _client_for(alice).get("/admin/rules/rulechange/?state=pending").content.decode()
    assert f'href="{RULES}/{rule.pk}/change/"' in page and "make the rule paused" in page
    assert f'href="{LISTS}/{rule_list.pk}/change/"' in page and "remove 1 entries: IR" in page
    assert 'href="/admin/rules/decisionthresholds/1/change/"' in page


def test_adding_to_an_exemption_list_on_its_page_waits_for_a_second_officer(alice, bob):
    rule_list = factories.rule_list("trusted_accounts", "account", ["ACC-1"])
    factories.rule(
        code="big_untrusted",
        expression='amount > 100 and customer.account_id not in list("trusted_accounts")',
    )
    data = _list_form(rule_list)
    data["entries-1-value"] = "ACC-MULE"
    response = _client_for(alice).post(f"{LISTS}/{rule_list.pk}/change/", data, follow=True)
    assert "takes effect when another compliance officer approves" in _messages(response)
    assert list(rule_list.entries.values_list("value", flat=True)) == ["ACC-1"]
    page = _client_for(bob).get(f"{LISTS}/{rule_list.pk}/change/").content.decode()
    assert "add 1 entries: ACC-MULE" in page and "big_untrusted" in page
    change = rule_list.changes.get(state=ChangeState.PENDING)
    _client_for(bob).post(f"{RULES}/change/{change.pk}/approve/")
    assert sorted(rule_list.entries.values_list("value", flat=True)) == ["ACC-1", "ACC-MULE"]


def test_an_overlong_approval_comment_is_refused_and_changes_nothing(alice, bob):
    change = _go_live_request(alice)
    response = _client_for(bob).post(
        f"{RULES}/change/{change.pk}/approve/", {"comment": "x" * 2001}, follow=True
    )
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING
    assert "at most 2000 characters" in _messages(response)


def test_deleting_more_entries_while_a_removal_waits_is_refused_on_the_page(alice):
    rule_list = factories.rule_list("ctry_x", "country", ["IR", "KP"])
    client = _client_for(alice)
    client.post(f"{LISTS}/{rule_list.pk}/change/", _list_form(rule_list, delete=["IR"]))
    response = client.post(f"{LISTS}/{rule_list.pk}/change/", _list_form(rule_list, delete=["KP"]))
    assert response.status_code == 200
    assert "awaiting approval" in response.content.decode()
    assert rule_list.changes.filter(state=ChangeState.PENDING).count() == 1
    assert rule_list.entries.count() == 2
