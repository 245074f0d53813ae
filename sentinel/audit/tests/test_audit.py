"""The audit trail: every change to an audited table with who, when, before and after;
logins, failed logins and refusals; the page compliance officers read it on."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pghistory
import pytest
from django.contrib.auth.models import Group, User
from django.db import IntegrityError, connection
from django.db import transaction as db_transaction
from django.test import Client
from django.utils import timezone

from rules.choices import ListKind
from rules.models import ListEntry
from rules.tests.factories import rule_list
from sentinel.audit.models import AuditEvent
from sentinel.audit.selectors import PAGE_SIZE
from sentinel.roles import ADMINISTRATOR, COMPLIANCE_OFFICER, INVESTIGATOR
from transactions import services as partner_services
from transactions.models import PartnerBank
from transactions.services import exchange_rates_import
from transactions.tests.factories import PartnerBankFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def staff(username: str, group: str) -> User:
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return User.objects.get(pk=user.pk)


def entries(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


@pytest.fixture
def officer_client(client):
    client.force_login(staff("olga", COMPLIANCE_OFFICER))
    return client


def test_a_change_in_the_admin_is_recorded_with_who_before_and_after(client):
    # Given an administrator and a partner's live key
    ada = staff("ada", ADMINISTRATOR)
    api_key, _ = partner_services.api_key_create(partner=PartnerBankFactory(), label="prod")
    client.force_login(ada)

    # When she revokes it in the admin
    response = client.post(
        "/admin/transactions/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]}
    )
    assert response.status_code == 302

    # Then the trail names her, the page, and the row before and after
    (change,) = entries(model="transactions.apikey", object_id=str(api_key.pk), action="update")
    assert (change.actor_id, change.actor_username) == (ada.pk, "ada")
    assert (change.method, change.path) == ("POST", "/admin/transactions/apikey/")
    assert change.before["revoked_at"] is None and change.before["revoked_by_id"] is None
    assert change.after["revoked_at"] is not None and change.after["revoked_by_id"] == ada.pk
    assert change.context_id is not None
    # and never the key's secret, even encrypted
    assert change.before["encrypted_secret"] == change.after["encrypted_secret"] == "[redacted]"
    assert {name for name, _, _ in change.changes} == {"revoked_at", "revoked_by_id"}


def test_exchange_rates_entered_in_the_admin_or_imported_are_recorded(client):
    # Given an import, one that corrects it, and a compliance officer who enters a rate
    exchange_rates_import(text="Date,USD,\n2026-11-20,1.0850,\n")
    exchange_rates_import(text="Date,USD,\n2026-11-20,1.0851,\n")
    client.force_login(staff("olga", COMPLIANCE_OFFICER))
    response = client.post(
        "/admin/transactions/exchangerate/add/",
        {"date": "2026-11-21", "base": "USD", "quote": "BRL", "rate": "5.4321", "source": "manual"},
    )
    assert response.status_code == 302

    # Then the trail has the import's rates made by the system, and hers with her name
    imported, corrected, entered = entries(model="transactions.exchangerate")
    assert (entered.action, entered.actor_username) == ("insert", "olga")
    assert entered.after["rate"] == 5.4321
    assert (imported.action, imported.actor_username) == ("insert", "")
    assert (corrected.before["rate"], corrected.after["rate"]) == (1.085, 1.0851)


def test_bulk_writes_and_raw_sql_are_recorded_too():
    # Given a list imported (bulk_create) and a partner, changed outside any request by a bulk
    # update and raw SQL
    partner = PartnerBankFactory(rate_limit_per_minute=100)
    entry = ListEntry.objects.get(rule_list=rule_list("vips", ListKind.ACCOUNT, ["A1"]))
    PartnerBank.objects.filter(pk=partner.pk).update(rate_limit_per_minute=5)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM rules_listentry WHERE id = %s", [entry.pk])

    # Then the import's bulk_create, the update and the delete are in the trail, made by no
    # one (the system), with what they changed
    (added,) = entries(model="rules.listentry", action="insert")
    assert added.object_id == str(entry.pk) and added.after["value"] == "A1"
    (update,) = entries(model="transactions.partnerbank", action="update")
    assert (update.before["rate_limit_per_minute"], update.after["rate_limit_per_minute"]) == (
        100,
        5,
    )
    assert update.actor_id is None and update.actor_username == ""
    (delete,) = entries(model="rules.listentry", action="delete")
    assert delete.object_id == str(entry.pk) and delete.before["value"] == "A1"
    assert delete.after is None


def test_code_outside_a_request_can_name_who_acts():
    ada = staff("ada", ADMINISTRATOR)
    with pghistory.context(user=ada.pk):
        partner = PartnerBankFactory()
    (created,) = entries(model="transactions.partnerbank", object_id=str(partner.pk))
    assert (created.action, created.actor_username) == ("insert", "ada")
    assert created.before is None and created.after["name"] == partner.name


def test_passwords_are_never_copied_and_a_login_stamp_alone_is_no_change():
    # Given a user whose password changes, and whose last login is stamped
    user = staff("ivan", INVESTIGATOR)
    user.set_password("another long passphrase")
    user.save()
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())

    # Then the change says the password changed, without either hash; the stamp adds nothing
    (change,) = entries(model="auth.user", object_id=str(user.pk), action="update")
    assert change.before["password"] == "[redacted]"
    assert change.after["password"] == "[redacted, changed]"
    assert user.password not in str(change.before) + str(change.after)


def test_group_memberships_are_recorded():
    user = staff("ivan", INVESTIGATOR)
    (joined,) = entries(model="auth.user_groups", action="insert")
    assert joined.after["user_id"] == user.pk
    assert joined.after["group_id"] == Group.objects.get(name=INVESTIGATOR).pk


def test_logins_and_failed_logins_are_recorded(client):
    staff("ivan", INVESTIGATOR)

    client.post("/login/", {"username": "ivan", "password": "wrong guess"})
    client.post("/login/", {"username": "nobody", "password": "whatever"})
    client.post("/login/", {"username": "ivan", "password": PASSWORD})

    failed = entries(action="login_failed")
    assert [(e.actor_username, e.actor_id, e.path) for e in failed] == [
        ("ivan", None, "/login/"),
        ("nobody", None, "/login/"),
    ]
    (login,) = entries(action="login")
    assert login.actor_username == "ivan" and login.ip_address == "127.0.0.1"
    typed = " ".join(str(vars(e)) for e in failed)
    assert "wrong guess" not in typed and "whatever" not in typed


def test_a_refused_request_is_recorded(client):
    # Given an investigator, when she opens the audit page (officers only) and an officer's API
    ivy = staff("ivy", INVESTIGATOR)
    client.force_login(ivy)
    assert client.get("/audit/").status_code == 403

    # Then the refusal is in the trail, with who and where
    (denied,) = entries(action="permission_denied")
    assert (denied.actor_username, denied.method, denied.path) == ("ivy", "GET", "/audit/")


def test_a_refusal_from_a_peer_without_an_ip_address_is_still_recorded():
    # Given a request whose server gave no usable peer address (a unix socket, a proxy's
    # "unknown"), when it is refused
    client = Client(REMOTE_ADDR="unknown")
    client.force_login(staff("ivy", INVESTIGATOR))
    assert client.get("/audit/").status_code == 403

    # Then the refusal is recorded, without an address
    (denied,) = entries(action="permission_denied")
    assert (denied.actor_username, denied.ip_address) == ("ivy", None)


def test_a_partner_key_refused_on_a_staff_endpoint_is_recorded_without_an_actor(partner_client):
    # Given a partner bank's signed client, when it calls the staff alert list
    response = partner_client().get("/api/v1/alerts/")

    # Then it is refused, and the refusal recorded with where, naming no staff user
    assert response.status_code == 403
    (denied,) = entries(action="permission_denied")
    assert (denied.actor_id, denied.actor_username) == (None, "")
    assert (denied.method, denied.path) == ("GET", "/api/v1/alerts/")


def test_only_officers_and_administrators_read_the_trail(client):
    assert client.get("/audit/").status_code == 302  # anonymous: to the login page
    for username, group, status in [
        ("ivy", INVESTIGATOR, 403),
        ("olga", COMPLIANCE_OFFICER, 200),
        ("ada", ADMINISTRATOR, 200),
    ]:
        client.force_login(staff(username, group))
        assert client.get("/audit/").status_code == status, group
        assert client.get("/audit/?format=csv").status_code == status, group


def test_the_page_filters_by_who_what_object_action_and_date(officer_client):
    # Given changes by two people to two kinds of rows
    ada, bob = staff("ada", ADMINISTRATOR), staff("bob", ADMINISTRATOR)
    with pghistory.context(user=ada.pk):
        first = PartnerBankFactory(name="First Bank")
    with pghistory.context(user=bob.pk):
        PartnerBankFactory(name="Second Bank")
        PartnerBank.objects.filter(pk=first.pk).update(is_active=False)

    def shown(query: str) -> list[str]:
        response = officer_client.get(f"/audit/?{query}")
        assert response.status_code == 200, response.content.decode()[:500]
        return [f"{e.actor_username} {e.action} {e.model}" for e in response.context["page"].events]

    by_bob = shown("actor=bob&model=transactions.partnerbank")
    assert by_bob == ["bob update transactions.partnerbank", "bob insert transactions.partnerbank"]
    assert shown(f"model=transactions.partnerbank&object_id={first.pk}") == [
        "bob update transactions.partnerbank",
        "ada insert transactions.partnerbank",
    ]
    assert shown("action=update&model=transactions.partnerbank") == [
        "bob update transactions.partnerbank"
    ]
    today = timezone.now().date()
    assert len(shown(f"since={today}&until={today}&model=transactions.partnerbank")) == 3
    assert shown(f"until={today - timedelta(days=1)}") == []


@pytest.mark.parametrize(
    "query, problem",
    [
        ("since=2026-12-05&until=2026-12-01", "The end date is before the start date."),
        ("since=yesterday", "Enter a valid date."),
        ("action=drop_table", "Select a valid choice."),
        ("model=auth.secrets", "Select a valid choice."),
    ],
)
def test_bad_filters_show_nothing_and_say_why(officer_client, query, problem):
    staff("ada", ADMINISTRATOR)  # something that would otherwise show
    response = officer_client.get(f"/audit/?{query}")
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert response.context["page"].events == []
    assert officer_client.get(f"/audit/?{query}&format=csv").status_code == 400


@pytest.mark.parametrize("before", ["abc", "-1", "9" * 30, "1.5"])
def test_a_bad_page_cursor_is_refused(officer_client, before):
    assert officer_client.get(f"/audit/?before={before}").status_code == 400


def test_pages_go_back_in_time_without_gaps_or_repeats(officer_client):
    # Given more entries than fit on a page
    for number in range(PAGE_SIZE + 5):
        AuditEvent.objects.create(action="login_failed", actor_username=f"guess{number}")

    first = officer_client.get("/audit/?action=login_failed").context["page"]
    second = officer_client.get(f"/audit/?action=login_failed&before={first.next_before}").context[
        "page"
    ]

    names = [e.actor_username for e in first.events + second.events]
    assert names == [f"guess{number}" for number in reversed(range(PAGE_SIZE + 5))]
    assert second.next_before is None


def test_csv_export_has_the_filtered_entries_and_disarms_formulas(officer_client):
    # Given a change and a failed login whose typed name is a spreadsheet formula
    ada = staff("ada", ADMINISTRATOR)
    with pghistory.context(user=ada.pk):
        partner = PartnerBankFactory(name="Csv Bank")
    Client().post("/login/", {"username": '=HYPERLINK("http://x.example")', "password": "x"})

    response = officer_client.get("/audit/?format=csv&model=transactions.partnerbank")
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    (row,) = rows
    assert (row["action"], row["actor_username"], row["object_id"]) == (
        "insert",
        "ada",
        str(partner.pk),
    )
    assert '"name": "Csv Bank"' in row["after"] and row["before"] == ""
    assert row["at"].endswith("Z")

    failed = officer_client.get("/audit/?format=csv&action=login_failed")
    (typed,) = list(csv.DictReader(io.StringIO(b"".join(failed.streaming_content).decode())))
    assert typed["actor_username"] == '\'=HYPERLINK("http://x.example")'


def test_the_trail_itself_is_append_only():
    stored = AuditEvent.objects.create(action="login_failed", actor_username="x")
    with pytest.raises(IntegrityError, match="append-only"), db_transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET actor_username = 'y'")
    with pytest.raises(IntegrityError, match="append-only"), db_transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.get(pk=stored.pk).actor_username == "x"
