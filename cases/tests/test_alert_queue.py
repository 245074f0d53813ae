"""The alert queue's parts that need cases: "open a case from these" (a cases view, since
alerts know no cases) and the filter on the assignee of an alert's case."""

from __future__ import annotations

import re

import pytest

from alerts.models import Alert
from cases.models import Case, CaseAlert
from sentinel.testing import logged_in
from transactions.tests.factories import PartnerBankFactory

from . import factories as f

URL = "/cases/from-alerts/"

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_open_a_case_from_selected_alerts_reports_the_ones_already_in_a_case():
    # Given two open alerts of one customer with no case, one already in a case, a dismissed one
    partner, rule = PartnerBankFactory(), f.a_rule()
    loose = [
        f.alert(rule=rule, partner=partner, account="A1", customer="C1"),
        f.alert(rule=f.a_rule(), partner=partner, account="A2", customer="C1"),
    ]
    existing = f.case(customer="C9")
    in_case = existing.alert_links.get().alert
    closed = f.alert(partner=partner, customer="C2")
    Alert.objects.filter(pk=closed.pk).update(status="dismissed", dismiss_reason="known")
    ids = [a.pk for a in loose] + [in_case.pk, closed.pk]

    # When an investigator opens a case from all four
    response = logged_in(f.investigator()).post(
        URL, {"alerts": ids, "next_query": "partner=x"}, follow=True
    )

    # Then the two loose alerts share one new case, and the others are explained
    case = Case.objects.exclude(pk=existing.pk).get()
    assert set(CaseAlert.objects.filter(case=case).values_list("alert_id", flat=True)) == {
        a.pk for a in loose
    }
    shown = _messages(response)
    assert shown[0] == f"2 of 4 alert(s) now in case #{case.pk}."
    assert f"Alert #{in_case.pk} is already in case #{existing.pk}." in shown
    assert f"Alert #{closed.pk} is dismissed: only open alerts join a case." in shown
    assert response.redirect_chain[-1][0] == "/alerts/?partner=x"


@pytest.mark.parametrize("who", [f.officer, f.administrator])
def test_only_people_who_work_cases_open_one_from_alerts(who):
    alert = f.alert()
    response = logged_in(who()).post(URL, {"alerts": [alert.pk]}, follow=True)
    assert _messages(response) == ["Nothing was changed. You do not have permission to work cases."]
    assert not CaseAlert.objects.exists()


def test_staff_who_may_not_see_cases_are_refused():
    alert = f.alert()
    response = logged_in(f.member(None)).post(URL, {"alerts": [alert.pk]})
    assert response.status_code == 403
    assert not CaseAlert.objects.exists()


@pytest.mark.parametrize("alerts", [[], ["x"], ["99999999999999999999999"]])
def test_bad_selections_change_nothing(alerts):
    f.alert()
    response = logged_in(f.investigator()).post(URL, {"alerts": alerts}, follow=True)
    assert _messages(response) == ["Nothing was changed. Select the alerts to open a case from."]
    assert not Case.objects.exists()


def test_the_alert_queue_filters_on_the_assignee_of_the_alerts_case():
    # Given an alert in a case of Ines, one in an unassigned case, and one in no case
    ines = f.investigator("ines")
    hers = f.case(assignee=ines, account="A1", customer="C1").alert_links.get().alert_id
    unassigned = f.case(account="A2", customer="C2").alert_links.get().alert_id
    loose = f.alert(account="A3", customer="C3").pk

    def listed(query: str, user=ines) -> set[int]:
        page = logged_in(user).get(f"/alerts/?{query}").content.decode()
        return {int(pk) for pk in re.findall(r'<tr data-alert-id="(\d+)"', page)}

    # Then each assignee filter lists its alerts, and the rows name the case and its assignee
    assert listed("assignee=ines") == {hers}
    assert listed("assignee=me") == {hers}
    assert listed("assignee=none") == {unassigned, loose}
    assert listed("assignee=nobody-by-that-name") == set()
    assert listed("assignee=me", user=f.investigator()) == set()


def test_an_alerts_copy_of_its_case_assignee_follows_every_change():
    # Given an alert taken into an unassigned case
    opened = f.case()
    alert = CaseAlert.objects.get(case=opened).alert
    stale = Alert.objects.get(pk=alert.pk)

    def copy() -> int | None:
        return Alert.objects.values_list("case_assignee", flat=True).get(pk=alert.pk)

    assert copy() is None

    # When the case is assigned, reassigned (also by a bulk update), the alert follows
    ana, bo = f.investigator("ana"), f.investigator("bo")
    Case.objects.filter(pk=opened.pk).update(assignee=ana)
    assert copy() == ana.pk
    Case.objects.filter(pk=opened.pk).update(assignee=bo)
    assert copy() == bo.pk

    # A full save of an instance loaded before cannot write its stale value back
    stale.save()
    assert copy() == bo.pk

    # Moved to another case, it takes that case's assignee; out of any case, none
    other = f.case(assignee=ana)
    CaseAlert.objects.filter(alert_id=alert.pk).update(case=other)
    assert copy() == ana.pk
    CaseAlert.objects.filter(alert_id=alert.pk).delete()
    assert copy() is None
