"""The account page, and the ring a network alert names on the alert and case pages: who may
read them, what they show, and what they cost."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from alerts.models import Alert
from cases import views
from cases.models import Case
from sentinel.pipeline.rings import network_rings_alert
from sentinel.testing import logged_in
from transactions.tests.factories import PartnerBankFactory

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def ring():
    """A fan-in of P0..P4 into HUB, raised by the window scan: (partner, alert, case)."""
    partner = PartnerBankFactory()
    f.ring_by_window_scan(partner)
    alert = Alert.objects.get(rule__code="network_fan_in")
    return partner, alert, Case.objects.get(alert_links__alert=alert)


def account_url(partner, account: str) -> str:
    return f"/accounts/{partner.pk}/{account}/"


def rows(html: str, table_id: str) -> list[str]:
    """The text of each body row of one table (tags stripped, spaces collapsed)."""
    table = re.search(rf'id="{table_id}".*?</table>', html, re.S).group(0)
    body = table.split("<tbody>", 1)[1]
    return [
        " ".join(re.sub(r"<[^>]+>", " ", row).split())
        for row in re.findall(r"<tr.*?</tr>", body, re.S)
    ]


# --- What the pages show -------------------------------------------------------------------------


def test_a_members_page_shows_the_ring_it_is_in_with_its_alert_and_case(ring):
    partner, alert, case = ring

    page = logged_in(f.investigator()).get(account_url(partner, "P2"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Outside counterparty" in html  # P2 is not the partner's customer
    (membership,) = rows(html, "account-rings")
    assert f"#{alert.pk}" in membership and "network_fan_in" in membership
    assert "Sender" in membership and "HUB" in membership and "Case #" in membership
    assert f'href="/alerts/{alert.pk}/"' in html
    assert f'href="/cases/{case.pk}/"' in html
    assert f'href="{account_url(partner, "HUB")}"' in html  # its hub, one click away
    (payment,) = rows(html, "account-transactions")  # the one transfer it made
    assert "900.00" in payment


def test_the_hubs_page_shows_its_profile_alerts_cases_and_transactions(ring):
    partner, alert, case = ring

    html = logged_in(f.investigator()).get(account_url(partner, "HUB")).content.decode()

    assert "Hub Holder" in html and "c-HUB" in html  # the customer
    assert "this account" in rows(html, "account-rings")[0]
    assert "Hub" in rows(html, "account-rings")[0]
    assert [r.split()[0] for r in rows(html, "account-alerts")] == [f"#{alert.pk}"]
    assert [r.split()[0] for r in rows(html, "account-cases")] == [f"#{case.pk}"]
    assert len(rows(html, "account-transactions")) == 5


def test_the_alert_page_lists_the_rings_members_linked_and_its_transfers_as_rows(ring):
    partner, alert, _ = ring

    html = logged_in(f.investigator()).get(f"/alerts/{alert.pk}/").content.decode()

    members = rows(html, "ring")
    assert members[0] == "HUB Hub"
    assert sorted(members[1:]) == [f"P{i} Sender" for i in range(5)]
    for account in ("HUB", *(f"P{i}" for i in range(5))):
        assert f'href="{account_url(partner, account)}"' in html
    transfers = rows(html, "alert-transactions")
    assert len(transfers) == 5
    assert all("ring" in row and "A transfer of the ring" in row for row in transfers)
    assert "4,500.00 USD" in html  # the ring's total


def test_the_case_page_lists_the_ring_and_draws_it(ring):
    partner, alert, case = ring

    page = logged_in(f.investigator()).get(f"/cases/{case.pk}/")

    html = page.content.decode()
    assert len(rows(html, "rings")) == 6
    assert f'href="{account_url(partner, "P3")}"' in html
    flow = page.context["money_flow"]
    assert flow["ring_transfers"] == 5 and all(edge["ring"] for edge in flow["edges"])
    roles = {node["account"]: node["role"] for node in flow["nodes"]}
    assert roles == {"HUB": "hub", **{f"P{i}": "sender" for i in range(5)}}


def test_the_transactions_are_keyset_paged(ring, monkeypatch):
    partner, _, _ = ring
    monkeypatch.setattr(views.AccountTransactionPages, "page_size", 2)
    client = logged_in(f.investigator())

    first = client.get(account_url(partner, "HUB"))
    second = client.get(first.context["next_url"])
    third = client.get(second.context["next_url"])

    pages = [[tx.pk for tx in page.context["transactions"]] for page in (first, second, third)]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert len({tx for page in pages for tx in page}) == 5
    assert third.context["next_url"] is None


def test_an_altered_cursor_is_a_clear_400(ring):
    partner, _, _ = ring

    page = logged_in(f.investigator()).get(account_url(partner, "HUB") + "?cursor=forged")

    assert page.status_code == 400
    assert "cursor:" in page.content.decode()


# --- Who may see it, and of which partner -------------------------------------------------------


def test_an_unknown_account_or_partner_is_404(ring):
    partner, _, _ = ring
    client = logged_in(f.investigator())

    assert client.get(account_url(partner, "NOBODY")).status_code == 404
    assert client.get(f"/accounts/{partner.pk + 1000}/HUB/").status_code == 404


def test_another_partners_account_is_unknown_under_this_partner(ring):
    partner, _, _ = ring
    other = PartnerBankFactory()
    f.ingest_and_score(
        other,
        f.payment(
            5,
            originator={"account_id": "THEIRS", "customer_id": "c-T"},
            beneficiary={"account_id": "X1"},
        ),
    )
    client = logged_in(f.investigator())

    assert client.get(account_url(other, "THEIRS")).status_code == 200
    assert client.get(account_url(partner, "THEIRS")).status_code == 404
    # and a ring member of this partner is nobody at the other
    assert client.get(account_url(other, "P1")).status_code == 404


@pytest.mark.parametrize("who", [f.officer, f.administrator, f.senior])
def test_every_staff_role_reads_account_pages(ring, who):
    partner, _, _ = ring
    assert logged_in(who()).get(account_url(partner, "HUB")).status_code == 200


def test_anonymous_is_sent_to_log_in_and_staff_without_the_permissions_refused(ring):
    partner, _, _ = ring
    url = account_url(partner, "HUB")

    assert Client().get(url).status_code == 302
    assert logged_in(f.member(None)).get(url).status_code == 403  # staff in no group
    # Who may see cases but not alerts sees no account page either (it lists alerts)
    cases_only = f.member(None)
    cases_only.user_permissions.add(Permission.objects.get(codename="view_case"))
    cases_only = User.objects.get(pk=cases_only.pk)
    assert logged_in(cases_only).get(url).status_code == 403
    not_staff = User.objects.create_user("customer-side", password=f.PASSWORD)
    not_staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_case", "view_alert"])
    )
    assert logged_in(User.objects.get(pk=not_staff.pk)).get(url).status_code == 403


# --- Cost -----------------------------------------------------------------------------------------


def test_the_account_page_costs_the_same_queries_with_more_rings_alerts_and_cases(
    ring, django_assert_max_num_queries
):
    # Given HUB in a second ring (another shape), with its alert, and P0 with its own alerts
    partner, _, _ = ring
    f.ingest_and_score(
        partner,
        *(
            f.payment(
                30 + i,
                amount="800.00",
                originator={"account_id": "HUB", "customer_id": "c-HUB"},
                beneficiary={"account_id": f"R{i}"},
            )
            for i in range(5)
        ),
    )
    network_rings_alert(partner_id=partner.pk)
    assert Alert.objects.filter(members__account_external_id="HUB").count() == 2
    client = logged_in(f.investigator())

    # session, user, second-factor device, two of permissions, partner; account, rings,
    # alerts, cases; the transactions' page and their labels
    with django_assert_max_num_queries(12):
        page = client.get(account_url(partner, "HUB"))

    assert len(rows(page.content.decode(), "account-rings")) == 2


def test_the_alert_page_costs_a_fixed_number_of_queries_for_a_ring(
    ring, django_assert_max_num_queries
):
    _, alert, _ = ring
    client = logged_in(f.investigator())
    # the alert with its links, labels, members and events, its snoozes, the money flow's
    # accounts and model explanations, besides the session's: the same for any ring size
    with django_assert_max_num_queries(13):
        page = client.get(f"/alerts/{alert.pk}/")
    assert page.status_code == 200
