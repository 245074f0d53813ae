"""Continuous screening end to end: a list change finds a known party, and the accounts
concerned get an alert under the screening rule of the list's kind, once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from alerts.choices import AlertEventType, AlertStatus
from alerts.models import Alert, Snooze
from rules.choices import RuleStatus
from rules.models import Rule
from rules.tests import factories as rule_factories
from sentinel.pipeline.rescreening import list_change_rescreen
from sentinel.screening.models import ScreeningMatch
from sentinel.screening.services import screening_list_import
from transactions.models import Account, Customer
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

SDN = Path(__file__).resolve().parents[2] / "screening" / "tests" / "fixtures" / "ofac_sdn.xml"
LISTED = "Youssef Al Amri"  # entry 10001 of the fixture, as a customer or counterparty spells it
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_screening_index")]


@pytest.fixture
def sanctions_rule_live() -> Rule:
    Rule.objects.filter(code="screening_sanctions_match").update(status=RuleStatus.LIVE)
    return Rule.objects.get(code="screening_sanctions_match")


def customer_with_account(partner, name: str, account: str = "ACC-1") -> Customer:
    now = timezone.now()
    customer = Customer.objects.create(
        partner=partner, external_id=f"C-{account}", name=name, first_seen_at=now, last_seen_at=now
    )
    Account.objects.create(partner=partner, external_id=account, customer=customer)
    return customer


def import_sdn(django_capture_on_commit_callbacks, content: bytes | None = None):
    """The import, and what its commit sets off (the re-screening task runs eagerly here)."""
    with django_capture_on_commit_callbacks(execute=True):
        return screening_list_import(
            list_name="OFAC SDN", source="ofac_sdn", content=content or SDN.read_bytes()
        )


def test_a_customer_found_on_a_new_list_gets_an_alert_on_its_account_with_the_match(
    sanctions_rule_live, django_capture_on_commit_callbacks, mailoutbox, settings
):
    # Given a long-standing customer, and a sanctions rule live
    settings.SENTINEL_ON_CALL_EMAIL = "oncall@bank.example"
    partner = PartnerBankFactory()
    customer_with_account(partner, LISTED, account="ACC-7")
    customer_with_account(partner, "Ana Lima", account="ACC-8")

    # When a list that names them is imported
    import_sdn(django_capture_on_commit_callbacks)

    # Then their account has a critical alert under the sanctions rule, the match explained
    alert = Alert.objects.get()
    assert (alert.rule, alert.partner, alert.account_external_id) == (
        sanctions_rule_live,
        partner,
        "ACC-7",
    )
    assert (alert.severity, alert.status, alert.occurrences) == ("critical", "new", 1)
    assert alert.customer_external_id == "C-ACC-7"
    event = alert.events.get()
    assert event.type == AlertEventType.CREATED
    assert "matches OFAC SDN entry 10001" in event.parameters["finding"]
    assert event.parameters["details"]["match_id"] == ScreeningMatch.objects.get().pk
    assert event.parameters["details"]["reasons"][0].startswith("~ Youssef AL-AMRI")
    # And on-call hears of it, as of any critical alert
    assert [mail.subject for mail in mailoutbox] == [
        f"[Sentinel] Critical alert #{alert.pk}: a known party found on a list"
    ]


def test_a_counterparty_found_on_a_list_alerts_the_accounts_that_dealt_with_it(
    sanctions_rule_live, django_capture_on_commit_callbacks
):
    # Given two accounts that paid the listed name, and one paid by someone else
    partner = PartnerBankFactory()
    payloads = []
    for account, beneficiary in (("A-1", LISTED), ("A-2", LISTED), ("A-3", "Ana Lima")):
        payload = transaction_payload()
        payload["originator"] = {**payload["originator"], "account_id": account}
        payload["beneficiary"] = {**payload["beneficiary"], "name": beneficiary}
        payloads.append(payload)
    assert {r.status for r in transactions_ingest(partner=partner, payloads=payloads)} == {
        "created"
    }

    import_sdn(django_capture_on_commit_callbacks)

    alerts = Alert.objects.order_by("account_external_id")
    assert [a.account_external_id for a in alerts] == ["A-1", "A-2"]
    assert all(a.rule == sanctions_rule_live for a in alerts)
    assert "Counterparty 'Youssef Al Amri'" in alerts[0].events.get().parameters["finding"]


def test_a_rule_not_live_records_the_match_and_raises_nothing(
    django_capture_on_commit_callbacks,
):
    # As shipped, the screening rules run in shadow: no alert until an officer puts them live
    partner = PartnerBankFactory()
    customer_with_account(partner, LISTED)

    import_sdn(django_capture_on_commit_callbacks)

    assert ScreeningMatch.objects.count() == 1
    assert not Alert.objects.exists()


def test_an_open_alert_takes_the_finding_and_a_snoozed_subject_takes_none(
    sanctions_rule_live, django_capture_on_commit_callbacks
):
    partner = PartnerBankFactory()
    customer_with_account(partner, LISTED, account="OPEN")
    customer_with_account(partner, "Youssef Alamri", account="SNOOZED")
    now = timezone.now()
    existing = Alert.objects.create(
        rule=sanctions_rule_live,
        rule_version=sanctions_rule_live.version,
        partner=partner,
        account_external_id="OPEN",
        severity="critical",
        first_seen_at=now - timedelta(days=1),
        last_seen_at=now - timedelta(days=1),
        currency="USD",
    )
    Snooze.objects.create(
        rule=sanctions_rule_live,
        partner=partner,
        account_external_id="SNOOZED",
        created_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=3),
        created_by=rule_factories.officer(),
        comment="known, under review by the MLRO",
    )

    import_sdn(django_capture_on_commit_callbacks)

    existing.refresh_from_db()
    assert (existing.occurrences, existing.status) == (2, AlertStatus.NEW)
    assert Alert.objects.count() == 1
    assert existing.events.get().type == AlertEventType.UPDATED


def test_running_again_raises_nothing_new(sanctions_rule_live, django_capture_on_commit_callbacks):
    partner = PartnerBankFactory()
    customer_with_account(partner, LISTED)
    list_import = import_sdn(django_capture_on_commit_callbacks)
    assert Alert.objects.get().occurrences == 1

    changes = list_change_rescreen(list_import_id=list_import.pk)

    assert changes.alerts == []
    assert Alert.objects.get().occurrences == 1


def test_the_alert_page_shows_what_was_found_and_why(
    sanctions_rule_live, django_capture_on_commit_callbacks, client
):
    partner = PartnerBankFactory()
    customer_with_account(partner, LISTED)
    import_sdn(django_capture_on_commit_callbacks)
    alert = Alert.objects.get()

    client.force_login(rule_factories.officer())
    page = client.get(f"/alerts/{alert.pk}/").content.decode()

    assert "Customer &#x27;Youssef Al Amri&#x27; matches OFAC SDN entry 10001" in page
    assert "~ Youssef AL-AMRI (OFAC SDN" in page


def test_the_alert_page_links_the_party_to_the_screening_page(
    sanctions_rule_live, django_capture_on_commit_callbacks, client
):
    partner = PartnerBankFactory()
    customer_with_account(partner, LISTED)
    import_sdn(django_capture_on_commit_callbacks)
    alert = Alert.objects.get()

    client.force_login(rule_factories.investigator())
    page = client.get(f"/alerts/{alert.pk}/").content.decode()

    assert 'href="/screening/party/?name=Youssef%20Al%20Amri"' in page


def test_a_counterparty_is_found_whatever_its_case_and_spacing(
    sanctions_rule_live, django_capture_on_commit_callbacks
):
    # Given one account that paid the listed name spelled two ways
    partner = PartnerBankFactory()
    payloads = []
    for beneficiary in ("YOUSSEF  AL AMRI", "Youssef Al Amri "):
        payload = transaction_payload()
        payload["originator"] = {**payload["originator"], "account_id": "A-9"}
        payload["beneficiary"] = {**payload["beneficiary"], "name": beneficiary}
        payloads.append(payload)
    transactions_ingest(partner=partner, payloads=payloads)

    list_import = import_sdn(django_capture_on_commit_callbacks)

    (alert,) = Alert.objects.all()
    assert alert.account_external_id == "A-9"
    assert ScreeningMatch.objects.filter(list_import=list_import).count() == 1


def test_two_findings_on_one_account_make_one_alert_with_two_occurrences(sanctions_rule_live):
    # Given an account whose customer is listed and which paid a listed company
    partner = PartnerBankFactory()
    customer_with_account(partner, LISTED, account="A-1")
    payload = transaction_payload()
    payload["originator"] = {**payload["originator"], "account_id": "A-1"}
    payload["beneficiary"] = {**payload["beneficiary"], "name": "Sunrise Maritime Trading"}
    transactions_ingest(partner=partner, payloads=[payload])
    list_import = screening_list_import(
        list_name="OFAC SDN", source="ofac_sdn", content=SDN.read_bytes()
    )

    changes = list_change_rescreen(list_import_id=list_import.pk)

    (alert,) = Alert.objects.all()
    assert (changes.created, changes.updated) == ([alert], [])
    assert alert.occurrences == 2
    assert [event.type for event in alert.events.order_by("id")] == ["created", "updated"]
