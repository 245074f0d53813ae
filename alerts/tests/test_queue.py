"""The alert queue page (/alerts/): the API's filters in the query string, sorts on keyset
pages, counts per severity and status, bulk actions, saved views; and, in a real browser,
filtering and a bulk action."""

from __future__ import annotations

import itertools
import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.test import APIClient

from alerts.models import Alert, AlertQueueView, Snooze
from rules.tests import factories as rule_factories
from sentinel.accounts.testing import pass_second_factor_in_browser
from sentinel.accounts.tests.factories import PASSWORD, investigator, officer, senior, staff
from sentinel.testing import logged_in
from transactions.tests.factories import PartnerBankFactory

from .test_services import _pay, _rule, ingest_and_score

URL = "/alerts/"
_accounts = itertools.count(1)

pytestmark = pytest.mark.django_db


def _alert(
    *,
    rule=None,
    partner=None,
    severity: str = "high",
    status: str = "new",
    priority: int = 800,
    account: str | None = None,
    age: timedelta | None = None,
) -> Alert:
    """An alert made directly (no transaction behind it)."""
    rule = rule or rule_factories.rule()
    seen = timezone.now()
    alert = Alert.objects.create(
        rule=rule,
        rule_version=rule.version,
        partner=partner or PartnerBankFactory(),
        account_external_id=account or f"ACC-{next(_accounts)}",
        severity=severity,
        status=status,
        dismiss_reason="known" if status == "dismissed" else "",
        first_seen_at=seen,
        last_seen_at=seen,
        currency="USD",
        amount_involved=Decimal("1500.00"),
        priority=priority,
    )
    if age is not None:
        Alert.objects.filter(pk=alert.pk).update(created_at=seen - age)
    return alert


def _ids(response) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<tr data-alert-id="(\d+)"', response.content.decode())]


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Listing, filters, sorting -----------------------------------------------------------------


def test_the_queue_shows_open_alerts_highest_priority_first_and_is_linked_from_home():
    # Given open alerts of several priorities and a dismissed one
    low, high = _alert(priority=300), _alert(priority=1500)
    acknowledged = _alert(priority=900, status="acknowledged")
    _alert(priority=1700, status="dismissed")
    client = logged_in(investigator())

    # When the investigator opens the queue
    response = client.get(URL)

    # Then the open ones are listed by priority, and home and the nav link to it
    assert _ids(response) == [high.pk, acknowledged.pk, low.pk]
    home = client.get("/").content.decode()
    assert 'id="alert-queue-link"' in home and '<a href="/alerts/">Alerts</a>' in home


def test_staff_who_may_not_see_alerts_are_refused():
    assert logged_in(staff()).get(URL).status_code == 403
    assert logged_in(staff()).post(f"{URL}bulk/", {"action": "acknowledge"}).status_code in (
        302,
        403,
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("partner=north", ["north_high"]),
        ("rule=structuring_rule", ["south_low"]),
        ("severity=high", ["north_high"]),
        ("severity=high&severity=low", ["north_high", "south_low"]),
        ("status=dismissed", ["dismissed"]),
        ("status=new&status=dismissed", ["north_high", "south_low", "dismissed"]),
        ("subject=S-1", ["south_low"]),
        ("typology=structuring", ["south_low"]),
        ("age=over_7d", ["south_low"]),
        ("age=24h", ["north_high"]),
        ("assignee=none", ["north_high", "south_low"]),
    ],
)
def test_each_filter_narrows_the_queue_as_the_api_does(query, expected):
    # Given alerts on two partners, two rules, several severities, statuses and ages
    north, south = PartnerBankFactory(slug="north"), PartnerBankFactory(slug="south")
    structuring = rule_factories.rule(code="structuring_rule", typologies=["structuring"])
    alerts = {
        "north_high": _alert(partner=north, severity="high", priority=1200),
        "south_low": _alert(
            partner=south,
            rule=structuring,
            severity="low",
            priority=400,
            account="S-1",
            age=timedelta(days=9),
        ),
        "dismissed": _alert(partner=south, severity="medium", status="dismissed", priority=100),
    }
    user = investigator()

    # When the queue and the API are asked with the same query string
    page = _ids(logged_in(user).get(f"{URL}?{query}"))
    api = logged_in(user, APIClient).get(f"/api/v1/alerts/?{query}")

    # Then both list the same alerts (the API without a status lists every status)
    assert page == [alerts[name].pk for name in expected]
    assert api.status_code == 200
    api_ids = {row["id"] for row in api.json()["results"]}
    if "status=" in query:
        assert api_ids == set(page)
    else:
        assert set(page) <= api_ids


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("severity=urgent", "severity"),
        ("status=sleeping", "status"),
        ("typology=astrology", "typology"),
        ("age=forever", "age"),
        ("min_priority=lots", "min_priority"),
        ("created_after=yesterday", "created_after"),
        ("sort=alphabetical", "sort"),
        ("cursor=not-a-cursor", "cursor"),
        ("sort=%3Cscript%3Ealert(1)%3C/script%3E", "sort"),
    ],
)
def test_a_bad_filter_shows_what_is_wrong_and_no_rows(query, field):
    _alert()
    response = logged_in(investigator()).get(f"{URL}?{query}")
    assert response.status_code == 200
    assert _ids(response) == []
    problems = response.context["problems"]
    assert len(problems) == 1 and problems[0].startswith(f"{field}:")
    assert "<script>" not in response.content.decode()


def test_sorts_newest_oldest_and_severity():
    # Given alerts raised one after another with crossing severities and priorities
    first = _alert(severity="critical", priority=1100)
    second = _alert(severity="low", priority=1200)
    third = _alert(severity="high", priority=1300)
    client = logged_in(investigator())

    assert _ids(client.get(f"{URL}?sort=newest")) == [third.pk, second.pk, first.pk]
    assert _ids(client.get(f"{URL}?sort=oldest")) == [first.pk, second.pk, third.pk]
    assert _ids(client.get(f"{URL}?sort=severity")) == [first.pk, third.pk, second.pk]
    assert _ids(client.get(f"{URL}?sort=priority")) == [third.pk, second.pk, first.pk]


def _next_link(response) -> str | None:
    return response.context["next_url"]


def test_keyset_pages_cover_every_alert_once_at_a_bounded_query_count(
    django_assert_max_num_queries,
):
    # Given 120 open alerts, many sharing a priority, and a filter in the query string
    rule = rule_factories.rule()
    partner = PartnerBankFactory(slug="acme")
    for n in range(120):
        _alert(rule=rule, partner=partner, priority=500 + n % 3)
    client = logged_in(investigator())
    client.get(URL)  # session and permissions warm, as for a reader already on the page

    # When the reader follows the next links
    seen, url, pages = [], f"{URL}?partner=acme&sort=priority", 0
    while url:
        with django_assert_max_num_queries(8):
            response = client.get(url)
        seen += _ids(response)
        url, pages = _next_link(response), pages + 1
        assert url is None or "partner=acme" in url  # the filters go along

    # Then three pages list every alert once, in the queue's order
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120
    expected = Alert.objects.order_by("-priority", "-last_seen_at", "-id").values_list(
        "pk", flat=True
    )
    assert seen == list(expected)


def test_a_cursor_carried_to_another_sort_is_refused():
    for _ in range(60):
        _alert()
    client = logged_in(investigator())
    next_url = _next_link(client.get(f"{URL}?sort=newest"))
    response = client.get(next_url.replace("sort=newest", "sort=oldest"))
    assert _ids(response) == []
    assert "another ordering" in response.context["problems"][0]


# --- Counts ------------------------------------------------------------------------------------


def test_counts_per_severity_and_status_keep_the_other_filters():
    # Given alerts of two partners in several severities and statuses
    north, south = PartnerBankFactory(slug="north"), PartnerBankFactory(slug="south")
    _alert(partner=north, severity="high")
    _alert(partner=north, severity="high", status="acknowledged")
    _alert(partner=north, severity="low")
    _alert(partner=north, severity="low", status="dismissed")
    _alert(partner=south, severity="high")

    # When the queue is filtered on a partner and on high severity
    response = logged_in(investigator()).get(f"{URL}?partner=north&severity=high")

    # Then each severity counts the open alerts of that partner (whatever severity is chosen)
    # and each status the high ones of that partner (whatever status is chosen)
    severities = {item["value"]: item["count"] for item in response.context["severities"]}
    statuses = {item["value"]: item["count"] for item in response.context["statuses"]}
    assert severities == {"low": 1, "medium": 0, "high": 2, "critical": 0}
    assert statuses == {"new": 1, "acknowledged": 1, "in_case": 0, "dismissed": 0}
    assert 'data-facet="severity-high">2</span>' in response.content.decode()


# --- Bulk actions ------------------------------------------------------------------------------


def _bulk(user, **data):
    return logged_in(user).post(f"{URL}bulk/", data, follow=True)


def test_bulk_acknowledge_reports_the_ones_it_could_not_acknowledge():
    # Given two new alerts, an acknowledged one and an id that does not exist
    fresh = [_alert(), _alert()]
    already = _alert(status="acknowledged")
    ids = [a.pk for a in fresh] + [already.pk, 999_999]

    # When the investigator acknowledges them all
    response = _bulk(investigator(), action="acknowledge", alerts=ids, next_query="severity=high")

    # Then the new ones are acknowledged, the others explained, and she is back on her filters
    assert set(Alert.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        "acknowledged"
    }
    shown = _messages(response)
    assert shown[0] == "Acknowledged 2 of 4 alert(s)."
    assert any(f"#{already.pk}" in m and "Only a new alert" in m for m in shown)
    assert any("#999999" in m and "does not exist" in m for m in shown)
    assert response.redirect_chain[-1][0] == "/alerts/?severity=high"


def test_bulk_dismiss_needs_a_reason_and_changes_nothing_without_one():
    alerts = [_alert(), _alert()]
    user = investigator()
    response = _bulk(user, action="dismiss", alerts=[a.pk for a in alerts], reason="   ")
    assert "reason" in _messages(response)[0] and "Nothing was changed" in _messages(response)[0]
    assert not Alert.objects.filter(status="dismissed").exists()

    response = _bulk(user, action="dismiss", alerts=[a.pk for a in alerts], reason="Payroll run")
    assert _messages(response)[0] == "Dismissed 2 of 2 alert(s)."
    assert list(Alert.objects.order_by().values_list("dismiss_reason", flat=True).distinct()) == [
        "Payroll run"
    ]


def test_bulk_actions_refuse_people_without_the_permission_and_change_nothing():
    # Given an officer, who may look at alerts but not work them
    alert = _alert()
    response = _bulk(officer(), action="acknowledge", alerts=[alert.pk])
    assert _messages(response) == [
        "Nothing was changed. You do not have permission to change alerts."
    ]
    response = _bulk(officer(), action="snooze", alerts=[alert.pk], days=5, comment="why")
    assert "permission to snooze" in _messages(response)[0]
    alert.refresh_from_db()
    assert alert.status == "new" and not Snooze.objects.exists()


def test_bulk_snooze_over_30_days_awaits_approval_and_one_subject_gets_one_snooze():
    # Given two alerts of one rule on one account (one now closed) and one on another account
    rule, partner = rule_factories.rule(), PartnerBankFactory()
    same = [
        _alert(rule=rule, partner=partner, account="A-1"),
        _alert(rule=rule, partner=partner, account="A-1", status="dismissed"),
    ]
    other = _alert(rule=rule, partner=partner, account="A-2")

    # When a senior snoozes them for 60 days
    response = _bulk(
        senior(),
        action="snooze",
        alerts=[same[0].pk, same[1].pk, other.pk],
        days=60,
        comment="Known payroll",
    )

    # Then there is one snooze per subject, each waiting for a second person
    assert Snooze.objects.count() == 2
    assert all(s.is_awaiting_approval for s in Snooze.objects.all())
    shown = _messages(response)
    assert shown[0] == "Snoozed 3 of 3 alert(s)."
    assert "approves them" in shown[1]


def test_bulk_snooze_reports_a_subject_already_snoozed():
    alert = _alert(account="A-9")
    user = senior()
    _bulk(user, action="snooze", alerts=[alert.pk], days=5, comment="payroll")
    response = _bulk(user, action="snooze", alerts=[alert.pk], days=5, comment="payroll")
    shown = _messages(response)
    assert shown[0] == "Snoozed 0 of 1 alert(s)."
    assert "already snoozed" in shown[1]
    assert Snooze.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"action": "acknowledge"},
        {"action": "explode", "alerts": ["1"]},
        {"action": "acknowledge", "alerts": ["1; DROP TABLE alerts_alert"]},
        {"action": "acknowledge", "alerts": ["99999999999999999999999999"]},
        {"action": "snooze", "alerts": ["1"], "days": "400", "comment": "x"},
        {"action": "snooze", "alerts": ["1"], "days": "5", "comment": ""},
    ],
)
def test_bad_bulk_input_changes_nothing_and_says_why(data):
    alert = _alert()
    response = _bulk(investigator(), **data)
    assert response.status_code == 200
    assert _messages(response)[0].startswith("Nothing was changed.")
    alert.refresh_from_db()
    assert alert.status == "new" and not Snooze.objects.exists()


def test_bulk_acknowledge_of_too_many_alerts_is_refused():
    response = _bulk(investigator(), action="acknowledge", alerts=list(range(1, 502)))
    assert _messages(response) == ["Nothing was changed. Select at most 500 alerts at a time."]


# --- Saved views -------------------------------------------------------------------------------


def test_saved_views_belong_to_their_owner():
    # Given an investigator who saves her filters (positioned on a later page)
    ines, omar = investigator(), investigator()
    client = logged_in(ines)
    client.post(
        f"{URL}views/",
        {"name": "North highs", "query": "partner=north&severity=high&cursor=abc"},
    )

    # Then the view opens on the first page of those filters, for her only
    view = AlertQueueView.objects.get()
    assert (view.user, view.query) == (ines, "partner=north&severity=high")
    assert "North highs" in client.get(URL).content.decode()
    assert "North highs" not in logged_in(omar).get(URL).content.decode()

    # And another person can neither delete it nor learn that it exists
    assert logged_in(omar).post(f"{URL}views/{view.pk}/delete/").status_code == 404
    assert AlertQueueView.objects.exists()
    response = client.post(f"{URL}views/{view.pk}/delete/", follow=True)
    assert _messages(response) == ["Deleted the view 'North highs'."]
    assert not AlertQueueView.objects.exists()


def test_saving_a_view_again_under_its_name_replaces_it_and_a_blank_name_is_refused():
    client = logged_in(investigator())
    client.post(f"{URL}views/", {"name": "Mine", "query": "severity=low"}, follow=True)
    client.post(f"{URL}views/", {"name": "Mine", "query": "severity=high"}, follow=True)
    assert list(AlertQueueView.objects.values_list("query", flat=True)) == ["severity=high"]
    response = client.post(f"{URL}views/", {"name": "  ", "query": "x=1"}, follow=True)
    assert _messages(response)[0].startswith("Not saved.")
    response = client.post(f"{URL}views/", {"name": "n" * 81, "query": ""}, follow=True)
    assert _messages(response)[0].startswith("Not saved.")
    assert AlertQueueView.objects.count() == 1


# --- In a real browser -------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.django_db(transaction=True)
def test_filter_then_acknowledge_the_selection_in_a_browser(asgi_server, page):
    # Given an investigator and open alerts of two partners
    user = investigator()
    north, south = PartnerBankFactory(slug="north"), PartnerBankFactory(slug="south")
    mine = [_alert(partner=north, priority=900), _alert(partner=north, priority=800)]
    _alert(partner=south, priority=1000)
    connection.close()

    page.goto(f"{asgi_server}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_factor_in_browser(page, user.username)
    page.wait_for_url(f"{asgi_server}/")

    # When she opens the queue from home, filters on a partner and acknowledges every row
    page.locator("#alert-queue-link").click()
    page.get_by_label("Partner (slug)").fill("north")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"partner=north"))
    rows = page.locator("#alert-queue tbody tr[data-alert-id]")
    expect(rows).to_have_count(2)
    page.locator("#select-all").check()
    page.get_by_role("button", name="Acknowledge").click()

    # Then she is back on the same filters, told it worked, and the rows say so
    expect(page.locator(".flash-success")).to_have_text("Acknowledged 2 of 2 alert(s).")
    assert "partner=north" in page.url
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td").nth(7)).to_have_text("Acknowledged")
    statuses = set(
        Alert.objects.filter(pk__in=[a.pk for a in mine]).values_list("status", flat=True)
    )
    connection.close()
    assert statuses == {"acknowledged"}


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.django_db(transaction=True)
def test_new_alerts_that_match_the_filters_show_as_a_bar_not_as_rows(asgi_server, page):
    # Given an investigator on the queue filtered on one partner, with one alert listed
    user = investigator()
    north, south = PartnerBankFactory(slug="north"), PartnerBankFactory(slug="south")
    listed = _alert(partner=north)
    _rule(severity="high")
    connection.close()
    page.goto(f"{asgi_server}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_factor_in_browser(page, user.username)
    page.wait_for_url(f"{asgi_server}/")
    page.goto(f"{asgi_server}/alerts/?partner=north")
    page.locator('#alert-queue[data-connected="1"]').wait_for()

    # When a transaction of each partner raises an alert (scored on a worker thread, as the
    # home page's live test does)
    def score():
        try:
            ingest_and_score(south, _pay(amount="5000.00"))
            ingest_and_score(north, _pay(amount="5000.00"))
        finally:
            connection.close()

    worker = threading.Thread(target=score)
    worker.start()
    worker.join(30)

    # Then the bar counts the north one only, and the table is unchanged until it is followed
    expect(page.locator("#new-alerts-count")).to_have_text("1")
    expect(page.locator("#new-alerts")).to_be_visible()
    rows = page.locator("#alert-queue tbody tr[data-alert-id]")
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-alert-id") == str(listed.pk)
    page.locator("#new-alerts a").click()
    expect(rows).to_have_count(2)
    expect(page.locator("#new-alerts")).to_be_hidden()
