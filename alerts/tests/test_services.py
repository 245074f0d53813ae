"""Alerts from live hits (de-duplication, suppression, severity, priority) and staff actions.

The helpers at the top are shared with test_api.py.
"""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection
from django.db import transaction as db_transaction

from alerts import services
from alerts.choices import AlertEventType, AlertStatus
from alerts.models import Alert, AlertEvent, AlertTransaction
from alerts.services import hits
from rules.choices import RuleStatus
from rules.tests import factories
from sentinel.pipeline import stages
from sentinel.pipeline.orchestrator import transactions_process
from sentinel.roles import INVESTIGATOR
from transactions.models import AccountProfile, Transaction
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

_numbers = itertools.count(1)


def staff(*codenames: str, username: str | None = None) -> User:
    """A staff user holding exactly the given alert permissions, and no group."""
    user = User.objects.create_user(
        username or f"staff{next(_numbers)}", password="pw", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="alerts", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)  # fresh permission cache


def investigator() -> User:
    """A member of the Investigator group, which works alerts (sentinel.roles)."""
    user = User.objects.create_user(f"investigator{next(_numbers)}", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=INVESTIGATOR))
    return User.objects.get(pk=user.pk)


def at(minutes_ago: float) -> str:
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return moment.isoformat().replace("+00:00", "Z")


def ingest_and_score(partner, *payloads) -> list:
    """Ingest, profile and score, as the workers do; the transaction ids."""
    results = transactions_ingest(partner=partner, payloads=list(payloads))
    ids = [result.id for result in results]
    transactions_process(transaction_ids=ids)
    return ids


pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    return PartnerBankFactory()


def _rule(expression: str = "amount >= 1000", **content):
    """A live rule, the only one running (the default pack is paused)."""
    rule = factories.rule(expression=expression, **content)
    factories.only_these_rules(rule)
    return rule


def _pay(minutes_ago: float = 1, **overrides) -> dict:
    return transaction_payload(occurred_at=at(minutes_ago), **overrides)


# --- From rule hits ---------------------------------------------------------------------------


def test_a_live_hit_opens_an_alert_on_the_customer_side_account(alerts_wired, partner):
    rule = _rule(severity="high", score=50)

    (tx_id,) = ingest_and_score(partner, _pay(amount="1500.00"))

    alert = Alert.objects.get()
    assert (alert.rule, alert.rule_version, alert.partner) == (rule, rule.version, partner)
    assert (alert.account_external_id, alert.customer_external_id) == ("A1", "C1")
    assert (alert.status, alert.severity, alert.occurrences) == ("new", "high", 1)
    assert (alert.amount_involved, alert.currency) == (Decimal("1500.00"), "USD")
    assert alert.first_seen_at == alert.last_seen_at
    # 250 x high (3) + 50 // 4 + 25 x 3 (1,500 is 10^3) + low risk 0
    assert alert.priority == 750 + 12 + 75
    assert list(alert.links.values_list("transaction_id", flat=True)) == [tx_id]
    event = AlertEvent.objects.get(alert=alert)
    assert (event.type, event.actor, event.parameters["transaction_ids"]) == (
        "created",
        None,
        [str(tx_id)],
    )


def test_an_inbound_transaction_alerts_on_the_beneficiary(alerts_wired, partner):
    _rule()
    ingest_and_score(partner, _pay(direction="inbound"))
    alert = Alert.objects.get()
    assert (alert.account_external_id, alert.customer_external_id) == ("B9", "C7")


def test_shadow_hits_and_non_hits_create_nothing(alerts_wired, partner):
    _rule(status=RuleStatus.SHADOW)
    ingest_and_score(partner, _pay(amount="5000.00"))
    _rule(expression="amount > 1000000")
    ingest_and_score(partner, _pay(amount="5000.00"))
    assert not Alert.objects.exists()


def test_repeated_hits_in_the_window_update_one_alert(alerts_wired, partner):
    _rule(suppression_seconds=3600)

    first = ingest_and_score(partner, _pay(30, amount="1000.00"))
    later = ingest_and_score(partner, _pay(20, amount="2000.00"), _pay(10, amount="3000.00"))

    alert = Alert.objects.get()
    assert alert.occurrences == 3
    assert alert.amount_involved == Decimal("6000.00")
    assert set(alert.links.values_list("transaction_id", flat=True)) == {*first, *later}
    seen = sorted(Transaction.objects.filter(pk__in=[*first, *later]).values_list("occurred_at"))
    assert (alert.first_seen_at, alert.last_seen_at) == (seen[0][0], seen[-1][0])
    assert list(alert.events.values_list("type", flat=True)) == ["created", "updated"]
    assert alert.events.last().parameters["occurrences"] == 3


def test_fifty_hits_in_the_window_make_one_alert_with_fifty_occurrences(alerts_wired, partner):
    _rule(severity="medium")

    ingest_and_score(partner, *(_pay(50 - i) for i in range(50)))

    alert = Alert.objects.get()
    assert (alert.occurrences, alert.links.count()) == (50, 50)
    assert alert.severity == "critical"  # medium, +1 at 5, +1 at 20


def test_severity_rises_at_five_and_twenty_occurrences(alerts_wired, partner):
    _rule(severity="low")

    ingest_and_score(partner, *(_pay(30 - i) for i in range(4)))
    assert Alert.objects.get().severity == "low"
    ingest_and_score(partner, _pay(25))
    assert Alert.objects.get().severity == "medium"
    ingest_and_score(partner, *(_pay(20 - i) for i in range(15)))

    alert = Alert.objects.get()
    assert (alert.occurrences, alert.severity) == (20, "high")
    raised = alert.events.filter(type=AlertEventType.SEVERITY_RAISED)
    assert [(e.parameters["from"], e.parameters["to"]) for e in raised] == [
        ("low", "medium"),
        ("medium", "high"),
    ]


def test_severity_is_capped_at_critical(alerts_wired, partner):
    _rule(severity="critical")
    ingest_and_score(partner, *(_pay(30 - i) for i in range(6)))
    assert Alert.objects.get().severity == "critical"


def test_an_open_alert_takes_hits_even_outside_the_window(alerts_wired, partner):
    _rule(suppression_seconds=600)

    ingest_and_score(partner, _pay(180))
    ingest_and_score(partner, _pay(1))

    alert = Alert.objects.get()
    assert (alert.status, alert.occurrences) == ("new", 2)


def test_after_a_dismissal_a_hit_in_the_window_is_suppressed_and_outside_opens_a_new_one(
    alerts_wired, partner
):
    _rule(suppression_seconds=3600)
    ingest_and_score(partner, _pay(180))
    dismissed = services.alert_dismiss(
        alert=Alert.objects.get(), actor=investigator(), reason="Known payroll."
    )

    (inside,) = ingest_and_score(partner, _pay(150))  # 30 min after the dismissed one
    dismissed.refresh_from_db()
    assert (Alert.objects.count(), dismissed.status, dismissed.occurrences) == (1, "dismissed", 2)
    assert AlertTransaction.objects.get(transaction_id=inside).suppressed is True

    (outside,) = ingest_and_score(partner, _pay(1))  # 2.5 h later
    new = Alert.objects.get(status=AlertStatus.NEW)
    assert new != dismissed
    assert list(new.links.values_list("transaction_id", flat=True)) == [outside]


def test_each_subject_and_rule_gets_its_own_alert(alerts_wired, partner):
    big = factories.rule(expression="amount >= 1000")
    any_ = factories.rule(expression="amount > 0")
    factories.only_these_rules(big, any_)

    ingest_and_score(
        partner,
        _pay(3, amount="5000.00"),
        _pay(2, amount="500.00", originator={"account_id": "A2", "customer_id": "C2"}),
    )

    subjects = sorted(Alert.objects.values_list("rule__code", "account_external_id", "occurrences"))
    assert subjects == sorted([(big.code, "A1", 1), (any_.code, "A1", 1), (any_.code, "A2", 1)])


def test_other_currencies_are_linked_but_not_added(alerts_wired, partner):
    _rule()
    ingest_and_score(partner, _pay(3, amount="1000.00"), _pay(2, amount="2000.00", currency="EUR"))
    alert = Alert.objects.get()
    assert (alert.currency, alert.amount_involved, alert.occurrences) == (
        "USD",
        Decimal("1000.00"),
        2,
    )


def test_the_account_risk_rating_raises_the_priority(alerts_wired, partner):
    _rule(severity="high", score=0)
    ingest_and_score(partner, _pay(3, amount="1000.00"))
    before = Alert.objects.get().priority
    AccountProfile.objects.filter(account__external_id="A1").update(risk_rating="high")

    ingest_and_score(partner, _pay(2, amount="1000.00"))

    assert Alert.objects.get().priority == before + 250  # 2,000 is still 10^3: only risk moved


def test_processing_the_same_evaluations_again_changes_nothing(alerts_wired, partner):
    _rule()
    ingest_and_score(partner, _pay(3), _pay(2))
    alert = Alert.objects.get()

    changes = services.alerts_from_hits(evaluations=alerts_wired[0])

    assert changes.alerts == []
    assert Alert.objects.get().occurrences == alert.occurrences == 2
    assert AlertEvent.objects.count() == 1


def test_a_rival_opening_the_alert_first_is_updated_instead(alerts_wired, partner, monkeypatch):
    """Simulates the race: our lookup saw no open alert, but one exists when we insert."""
    _rule()
    ingest_and_score(partner, _pay(3))
    monkeypatch.setattr(hits, "_open_alerts_locked", lambda by_subject: {})

    ingest_and_score(partner, _pay(2))

    alert = Alert.objects.get()
    assert alert.occurrences == 2
    assert list(alert.events.values_list("type", flat=True)) == ["created", "updated"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_subject_make_one_alert(monkeypatch):
    """Worker A opens the alert and holds its transaction; worker B, seeing no open alert,
    blocks on the one-open constraint, then updates A's alert once A commits."""
    # Given two scored batches whose alerts the pipeline did not raise
    batches: list = []
    monkeypatch.setattr(
        stages,
        "alerts_from_hits",
        lambda *, evaluations, rings=None: batches.append(evaluations) or services.AlertChanges(),
    )
    partner = PartnerBankFactory()
    _rule()
    ingest_and_score(partner, _pay(3))
    ingest_and_score(partner, _pay(2))
    monkeypatch.undo()
    first, second = batches
    inserted: list[bool] = []
    insert = hits._alert_insert
    monkeypatch.setattr(hits, "_alert_insert", lambda e: inserted.append(insert(e)) or inserted[-1])
    a_inserted, a_may_commit = threading.Event(), threading.Event()
    errors: list = []

    def worker_a():
        try:
            with db_transaction.atomic():
                services.alerts_from_hits(evaluations=first)
                a_inserted.set()
                a_may_commit.wait(10)
        except Exception as error:  # noqa: BLE001  reported below
            errors.append(error)
        finally:
            connection.close()

    def worker_b():
        try:
            a_inserted.wait(10)
            with db_transaction.atomic():
                services.alerts_from_hits(evaluations=second)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker_a), threading.Thread(target=worker_b)]
    for thread in threads:
        thread.start()
    a_inserted.wait(10)
    time.sleep(0.5)  # B is now blocked on A's uncommitted alert
    a_may_commit.set()
    for thread in threads:
        thread.join(20)

    assert errors == []
    assert inserted == [True, False]  # B lost the insert and took the rival's alert
    alert = Alert.objects.get()
    assert (alert.occurrences, alert.links.count()) == (2, 2)
    assert list(alert.events.values_list("type", flat=True)) == ["created", "updated"]


def test_nothing_to_do_costs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert services.alerts_from_hits(evaluations=[]).alerts == []


# --- Staff actions ----------------------------------------------------------------------------


@pytest.fixture
def alert(alerts_wired, partner):
    _rule()
    ingest_and_score(partner, _pay())
    return Alert.objects.get()


def test_acknowledge_records_who_and_when(alert):
    user = investigator()
    acknowledged = services.alert_acknowledge(alert=alert, actor=user)
    assert acknowledged.status == "acknowledged"
    event = alert.events.get(type=AlertEventType.ACKNOWLEDGED)
    assert event.actor == user


def test_acknowledge_applies_only_to_new_alerts(alert):
    services.alert_acknowledge(alert=alert, actor=investigator())
    with pytest.raises(services.AlertStateError, match="Only a new alert"):
        services.alert_acknowledge(alert=alert, actor=investigator())


def test_dismiss_records_the_reason_and_the_actor(alert):
    user = investigator()
    services.alert_acknowledge(alert=alert, actor=user)
    dismissed = services.alert_dismiss(alert=alert, actor=user, reason="  Known payroll.  ")
    assert (dismissed.status, dismissed.dismiss_reason) == ("dismissed", "Known payroll.")
    event = alert.events.get(type=AlertEventType.DISMISSED)
    assert (event.actor, event.parameters) == (user, {"reason": "Known payroll."})


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_dismiss_without_a_valid_reason_is_refused_and_changes_nothing(alert, reason):
    with pytest.raises(ValidationError) as error:
        services.alert_dismiss(alert=alert, actor=investigator(), reason=reason)
    assert "reason" in error.value.message_dict
    alert.refresh_from_db()
    assert (alert.status, alert.dismiss_reason) == ("new", "")
    assert not alert.events.filter(type=AlertEventType.DISMISSED).exists()


def test_a_dismissed_alert_cannot_be_dismissed_again(alert):
    services.alert_dismiss(alert=alert, actor=investigator(), reason="No.")
    with pytest.raises(services.AlertStateError, match="Only a new or acknowledged"):
        services.alert_dismiss(alert=alert, actor=investigator(), reason="Again.")


def test_actions_need_the_change_permission(alert):
    reader = staff("view_alert")
    with pytest.raises(PermissionDenied):
        services.alert_acknowledge(alert=alert, actor=reader)
    with pytest.raises(PermissionDenied):
        services.alert_dismiss(alert=alert, actor=reader, reason="Fine.")
    alert.refresh_from_db()
    assert alert.status == "new"


def test_the_database_refuses_a_dismissal_without_reason(alert):
    with pytest.raises(IntegrityError), db_transaction.atomic():
        Alert.objects.filter(pk=alert.pk).update(status=AlertStatus.DISMISSED)


def test_the_database_refuses_a_second_open_alert_for_the_subject(alert):
    alert.pk = None
    with pytest.raises(IntegrityError), db_transaction.atomic():
        alert.save()


def test_scoring_in_the_request_opens_the_alert_too(alerts_wired, partner_client):
    """?wait=true stores the decision in the request: the alert is there when it answers."""
    _rule(severity="high")
    client = partner_client()

    response = client.post("/api/v1/transactions/?wait=true", _pay(amount="2500.00"))

    assert response.status_code == 201, response.json()
    alert = Alert.objects.get()
    assert (alert.partner, alert.amount_involved) == (client.partner, Decimal("2500.00"))
    assert str(alert.links.get().transaction_id) == response.json()["id"]


# --- On-call email ----------------------------------------------------------------------------


def test_a_critical_alert_emails_on_call_once(
    alerts_wired, partner, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.SENTINEL_ON_CALL_EMAIL = "oncall@bank.example"
    _rule(severity="critical", code="sanctions_hit")

    with django_capture_on_commit_callbacks(execute=True):
        ingest_and_score(partner, _pay(3))
    with django_capture_on_commit_callbacks(execute=True):
        ingest_and_score(partner, _pay(2))  # the same alert grows: no second email

    (message,) = mailoutbox
    alert = Alert.objects.get()
    assert message.to == ["oncall@bank.example"]
    assert message.subject == f"[Sentinel] Critical alert #{alert.pk}: sanctions_hit on A1"
    assert "hit account A1 (customer C1) 1 time(s)" in message.body


def test_alerts_made_critical_in_one_commit_page_on_call_once(
    alerts_wired, partner, mailoutbox, django_capture_on_commit_callbacks, settings, monkeypatch
):
    """A burst (an attack on many accounts, a new rule) pages once per scoring commit, listing
    the alerts, not one email each."""
    settings.SENTINEL_ON_CALL_EMAIL = "oncall@bank.example"
    monkeypatch.setattr(hits, "PAGE_LISTS_AT_MOST", 3)
    _rule(severity="critical", code="sanctions_hit")
    burst = [_pay(3, originator={"account_id": f"A{n}", "customer_id": f"C{n}"}) for n in range(5)]

    with django_capture_on_commit_callbacks(execute=True):
        ingest_and_score(partner, *burst)

    (message,) = mailoutbox
    first = Alert.objects.order_by("pk").first()
    assert Alert.objects.count() == 5
    assert message.subject == f"[Sentinel] 5 critical alerts: #{first.pk} and 4 more"
    assert message.body.count("rule sanctions_hit hit account") == 3
    assert message.body.endswith("...and 2 more: see the critical alerts on the alert queue.")


def test_an_alert_raised_to_critical_emails_on_call(
    alerts_wired, partner, mailoutbox, django_capture_on_commit_callbacks
):
    _rule(severity="high")
    with django_capture_on_commit_callbacks(execute=True):
        ingest_and_score(partner, *[_pay(10 - i / 10) for i in range(4)])
    assert mailoutbox == []  # high, 4 occurrences

    with django_capture_on_commit_callbacks(execute=True):
        ingest_and_score(partner, _pay(1))  # the fifth raises it to critical

    assert Alert.objects.get().severity == "critical"
    assert len(mailoutbox) == 1


def test_no_email_when_on_call_is_switched_off(
    alerts_wired, partner, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.SENTINEL_ON_CALL_EMAIL = ""
    _rule(severity="critical")
    with django_capture_on_commit_callbacks(execute=True):
        ingest_and_score(partner, _pay(3))
    assert Alert.objects.get().severity == "critical"
    assert mailoutbox == []
