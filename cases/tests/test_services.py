"""Case services: alerts into cases, the workflow with four eyes, evidence, and concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings

from alerts.choices import AlertStatus
from alerts.models import Alert
from cases import services
from cases.choices import CaseEventType, CaseStatus, Disposition
from cases.models import Case, CaseAlert, CaseEvent
from rules.tests.factories import only_these_rules
from transactions.tests.factories import PartnerBankFactory

from . import factories as f

pytestmark = pytest.mark.django_db


def _events(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("type", flat=True))


def _unchanged(case: Case) -> tuple:
    fresh = Case.objects.get(pk=case.pk)
    return (fresh.status, fresh.assignee_id, fresh.disposition, fresh.version, _events(case))


# --- Alerts into cases -------------------------------------------------------------------------


def test_a_new_alert_opens_a_case_on_its_customer_with_the_sla_of_its_severity():
    # Given an open alert on customer C1
    alert = f.alert(customer="C1", account="A1", severity="high", priority=900)

    # When it goes through intake
    (case,) = services.cases_from_alerts(alerts=[alert])

    # Then one case holds it, with the alert's severity, priority and the 72-hour SLA
    assert (case.customer_external_id, case.account_external_id) == ("C1", "A1")
    assert (case.status, case.severity, case.priority, case.version) == ("open", "high", 900, 1)
    assert case.due_at == case.created_at + timedelta(hours=72)
    assert _events(case) == [CaseEventType.OPENED]
    # and the alert stays open to triage until someone takes up the case
    alert.refresh_from_db()
    assert (alert.status, alert.case_link.case) == (AlertStatus.NEW, case)


def test_taking_up_a_case_puts_its_open_alerts_in_the_case():
    # Given a case with a new and an acknowledged alert, and one dismissed meanwhile
    partner = PartnerBankFactory()
    new, acked, gone = (f.alert(partner=partner, account=a) for a in ("A1", "A2", "A3"))
    Alert.objects.filter(pk=acked.pk).update(status="acknowledged")
    (case,) = services.cases_from_alerts(alerts=[new, acked, gone])
    Alert.objects.filter(pk=gone.pk).update(status="dismissed", dismiss_reason="Payroll.")
    me = f.investigator()

    # When an investigator claims it
    services.case_claim(case=case, actor=me)

    # Then the open alerts are in the case, each with an event naming her; the dismissed stays
    statuses = dict(Alert.objects.values_list("pk", "status"))
    assert statuses == {new.pk: "in_case", acked.pk: "in_case", gone.pk: "dismissed"}
    update = new.events.get()
    assert update.actor == me
    assert update.parameters == {"status": {"from": "new", "to": "in_case"}, "case_id": case.pk}

    # and an alert joining the case under investigation goes straight in
    later = f.alert(partner=partner, account="A4")
    services.cases_from_alerts(alerts=[later])
    later.refresh_from_db()
    assert (later.status, later.events.get().actor) == ("in_case", None)


def test_later_alerts_of_the_subject_join_its_open_case_and_raise_its_priority():
    partner = PartnerBankFactory()
    (case,) = services.cases_from_alerts(alerts=[f.alert(partner=partner, severity="medium")])
    due = case.due_at

    other_account = f.alert(partner=partner, account="A2", severity="critical", priority=1700)
    services.cases_from_alerts(alerts=[other_account])

    case.refresh_from_db()
    assert Case.objects.count() == 1
    assert case.alert_links.count() == 2
    assert (case.severity, case.priority) == ("critical", 1700)
    assert case.due_at == case.created_at + timedelta(hours=24) < due  # only ever earlier
    assert _events(case) == [CaseEventType.OPENED, CaseEventType.ALERTS_ATTACHED]


def test_an_alert_without_customer_makes_its_account_the_subject():
    partner = PartnerBankFactory()
    services.cases_from_alerts(alerts=[f.alert(partner=partner, customer="", account="X1")])
    services.cases_from_alerts(alerts=[f.alert(partner=partner, customer="", account="X1")])
    services.cases_from_alerts(alerts=[f.alert(partner=partner, customer="", account="X2")])

    assert sorted(Case.objects.values_list("account_external_id", flat=True)) == ["X1", "X2"]
    assert Case.objects.get(account_external_id="X1").subject_label == "account X1"


def test_the_same_customer_at_two_partners_makes_two_cases():
    services.cases_from_alerts(alerts=[f.alert(customer="C1"), f.alert(customer="C1")])
    assert Case.objects.count() == 2


def test_intake_is_idempotent_and_ignores_dismissed_alerts():
    alert = f.alert()
    services.cases_from_alerts(alerts=[alert])
    services.cases_from_alerts(alerts=[alert])
    dismissed = f.alert(customer="C9")
    Alert.objects.filter(pk=dismissed.pk).update(status="dismissed", dismiss_reason="no")

    services.cases_from_alerts(alerts=[dismissed])

    assert CaseAlert.objects.count() == 1
    assert Case.objects.count() == 1


def test_after_closure_a_new_alert_opens_a_new_case():
    case = f.case(status=CaseStatus.INVESTIGATING, severity="low")
    services.case_propose_closure(
        case=case, actor=case.assignee, disposition=Disposition.NO_ACTION, reason="Payroll."
    )

    services.cases_from_alerts(alerts=[f.alert(partner=case.partner)])

    assert Case.objects.filter(partner=case.partner).count() == 2
    assert Case.objects.get(pk=case.pk).alert_links.count() == 1  # the closed one is untouched


def test_scoring_a_transaction_opens_a_case_through_the_alerts_seam():
    # Given a live rule and a partner
    partner = PartnerBankFactory()
    rule = f.a_rule(severity="high")
    only_these_rules(rule)

    # When a transaction hits it
    (tx_id,) = f.ingest_and_score(partner, f.payment(amount="5000.00"))

    # Then the alert is in a case on the customer, with the hit's explanation at hand
    alert = Alert.objects.get()
    case = Case.objects.get()
    assert (alert.status, alert.case_link.case) == ("new", case)
    assert (case.customer_external_id, case.severity) == ("C1", "high")
    assert alert.links.get().hit.explanation


# --- Assignment and claiming -------------------------------------------------------------------


def test_claim_assigns_and_starts_the_investigation():
    case, me = f.case(), f.investigator()

    case = services.case_claim(case=case, actor=me)

    assert (case.assignee, case.status, case.version) == (me, "investigating", 2)
    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    assert [(e.type, e.actor) for e in events[1:]] == [
        (CaseEventType.ASSIGNED, me),
        (CaseEventType.STATUS_CHANGED, me),
    ]


def test_claiming_a_case_someone_else_holds_is_refused_and_changes_nothing():
    case = f.case(status=CaseStatus.INVESTIGATING)
    before = _unchanged(case)

    with pytest.raises(services.CaseStateError, match="already assigned to"):
        services.case_claim(case=case, actor=f.investigator())

    assert _unchanged(case) == before


def test_claim_next_takes_the_highest_priority_unassigned_open_case():
    partner = PartnerBankFactory()
    low = f.case(partner=partner, customer="C1", priority=300)
    high = f.case(partner=partner, customer="C2", priority=1500)
    f.case(partner=partner, customer="C3", priority=1700, assignee=f.investigator())
    me = f.investigator()

    assert services.case_claim_next(actor=me) == high
    assert services.case_claim_next(actor=me) == low
    assert services.case_claim_next(actor=me) is None


def test_a_senior_assigns_and_bulk_assigns_to_investigators():
    lead, worker = f.senior(), f.investigator()
    one, two = f.case(customer="C1"), f.case(customer="C2")
    closed = f.case(customer="C3", status=CaseStatus.INVESTIGATING, severity="low")
    services.case_propose_closure(
        case=closed, actor=closed.assignee, disposition="no_action", reason="ok"
    )

    services.case_assign(case=one, assignee=worker, actor=lead)
    result = services.case_bulk_assign(
        case_ids=[two.pk, closed.pk, 10**9], assignee=worker, actor=lead
    )

    assert Case.objects.get(pk=one.pk).assignee == worker
    assert result.assigned == [two.pk]
    assert "closed" in result.skipped[closed.pk]
    assert "does not exist" in result.skipped[10**9]


def test_unassigning_returns_an_investigation_to_the_queue():
    case = f.case(status=CaseStatus.INVESTIGATING)
    services.case_assign(case=case, assignee=None, actor=f.senior())
    case.refresh_from_db()
    assert (case.assignee, case.status) == (None, "open")


def test_cases_go_only_to_people_who_may_work_them():
    with pytest.raises(ValidationError, match="not allowed to work cases"):
        services.case_assign(case=f.case(), assignee=f.officer(), actor=f.senior())


def test_start_needs_the_case_to_be_yours():
    me = f.investigator()
    mine = f.case(customer="C1", assignee=me)
    unassigned = f.case(customer="C2")
    theirs = f.case(customer="C3", assignee=f.investigator())

    assert services.case_start(case=mine, actor=me).status == "investigating"
    with pytest.raises(services.CaseStateError, match="unassigned"):
        services.case_start(case=unassigned, actor=me)
    with pytest.raises(services.CasePermissionError, match="not to you"):
        services.case_start(case=theirs, actor=me)
    with pytest.raises(services.CaseStateError, match="already investigating"):
        services.case_start(case=mine, actor=me)


# --- Closure and four eyes ---------------------------------------------------------------------


def test_a_false_positive_on_a_high_case_closes_at_once():
    case = f.case(status=CaseStatus.INVESTIGATING, severity="high")

    case = services.case_propose_closure(
        case=case, actor=case.assignee, disposition="false_positive", reason="Known payroll."
    )

    assert (case.status, case.disposition, case.closure_reason) == (
        "closed",
        "false_positive",
        "Known payroll.",
    )
    assert case.closed_at is not None
    assert _events(case)[-3:] == ["closure_proposed", "status_changed", "closed"]


@pytest.mark.parametrize(
    ("severity", "disposition"),
    [("high", "sar_filed"), ("critical", "no_action"), ("critical", "false_positive")],
)
def test_a_sar_or_a_critical_case_waits_for_a_second_senior(severity, disposition):
    # Given an investigation by a senior investigator
    proposer = f.senior()
    case = f.case(status=CaseStatus.INVESTIGATING, severity=severity, assignee=proposer)
    if disposition == "sar_filed":
        case = f.exported_sar(case)

    # When she proposes the closure
    case = services.case_propose_closure(
        case=case, actor=proposer, disposition=disposition, reason="Structuring pattern."
    )

    # Then it awaits approval; she cannot approve it herself, another senior can
    assert (case.status, case.proposed_by, case.proposed_disposition) == (
        "pending_approval",
        proposer,
        disposition,
    )
    before = _unchanged(case)
    with pytest.raises(services.CasePermissionError, match="another senior investigator"):
        services.case_approve_closure(case=case, actor=proposer)
    assert _unchanged(case) == before

    approver = f.senior()
    case = services.case_approve_closure(case=case, actor=approver, comment="Agreed.")
    assert (case.status, case.disposition, case.proposed_by) == ("closed", disposition, None)
    approved = CaseEvent.objects.get(case=case, type=CaseEventType.CLOSURE_APPROVED)
    assert (approved.actor, approved.parameters["proposed_by"]) == (approver, proposer.username)


def test_an_investigator_cannot_approve_any_closure():
    case = f.exported_sar(f.case(status=CaseStatus.INVESTIGATING))
    services.case_propose_closure(
        case=case, actor=case.assignee, disposition="sar_filed", reason="x"
    )
    with pytest.raises(services.CasePermissionError, match="Only a senior investigator"):
        services.case_approve_closure(case=case, actor=f.investigator())


def test_send_back_needs_a_comment_and_reopens_the_investigation():
    case = f.exported_sar(f.case(status=CaseStatus.INVESTIGATING))
    services.case_propose_closure(
        case=case, actor=case.assignee, disposition="sar_filed", reason="x"
    )
    approver = f.senior()

    with pytest.raises(ValidationError, match="Say why"):
        services.case_send_back(case=case, actor=approver, comment="  ")
    case = services.case_send_back(case=case, actor=approver, comment="Add the wire records.")

    assert (case.status, case.proposed_by, case.proposed_disposition) == ("investigating", None, "")
    sent = CaseEvent.objects.get(case=case, type=CaseEventType.SENT_BACK)
    assert sent.parameters == {"disposition": "sar_filed", "comment": "Add the wire records."}


def test_closing_an_unassigned_case_is_refused():
    case = f.case()
    with pytest.raises(services.CaseStateError, match="unassigned case cannot be closed"):
        services.case_propose_closure(
            case=case, actor=f.investigator(), disposition="no_action", reason="x"
        )


def test_only_the_assignee_proposes_a_closure():
    case = f.case(status=CaseStatus.INVESTIGATING)
    with pytest.raises(services.CasePermissionError, match="Only the assignee"):
        services.case_propose_closure(
            case=case, actor=f.investigator(), disposition="no_action", reason="x"
        )


def test_approving_without_a_proposal_is_refused():
    case = f.case(status=CaseStatus.INVESTIGATING)
    with pytest.raises(services.CaseStateError, match="no closure awaiting approval"):
        services.case_approve_closure(case=case, actor=f.senior())


def test_a_closed_case_refuses_every_action_and_keeps_its_state():
    case = f.case(status=CaseStatus.INVESTIGATING, severity="low")
    worker = case.assignee
    services.case_propose_closure(case=case, actor=worker, disposition="no_action", reason="ok")
    before = _unchanged(case)
    lead = f.senior()

    attempts = [
        lambda: services.case_claim(case=case, actor=worker),
        lambda: services.case_assign(case=case, assignee=worker, actor=lead),
        lambda: services.case_start(case=case, actor=worker),
        lambda: services.case_add_note(case=case, actor=worker, body="late"),
        lambda: services.case_tag(case=case, actor=worker, add=["x"]),
        lambda: services.case_propose_closure(
            case=case, actor=worker, disposition="sar_filed", reason="x"
        ),
        lambda: services.case_approve_closure(case=case, actor=lead),
        lambda: services.case_send_back(case=case, actor=lead, comment="x"),
    ]
    for attempt in attempts:
        with pytest.raises(services.CaseStateError, match="is closed"):
            attempt()
    assert _unchanged(case) == before


def test_an_unknown_disposition_is_bad_input():
    case = f.case(status=CaseStatus.INVESTIGATING)
    with pytest.raises(ValidationError, match="not a disposition"):
        services.case_propose_closure(
            case=case, actor=case.assignee, disposition="forgotten", reason="x"
        )


def test_a_stale_version_is_refused_and_changes_nothing():
    case = f.case()
    seen = case.version
    services.case_tag(case=case, actor=f.investigator(), add=["fraud"])
    before = _unchanged(case)

    with pytest.raises(services.CaseConflict, match="changed since you loaded it"):
        services.case_claim(case=case, actor=f.investigator(), expected_version=seen)

    assert _unchanged(case) == before


# --- Evidence ----------------------------------------------------------------------------------


def test_notes_are_stored_as_typed_and_recorded():
    case, me = f.case(), f.investigator()
    note = services.case_add_note(case=case, actor=me, body="  **Wire** to SG.  ")
    assert (note.body, note.author) == ("**Wire** to SG.", me)
    assert CaseEvent.objects.get(case=case, type="note_added").parameters == {"note_id": note.pk}
    with pytest.raises(ValidationError, match="cannot be empty"):
        services.case_add_note(case=case, actor=me, body=" ")


def test_tags_are_normalised_and_merged():
    case, me = f.case(), f.investigator()
    services.case_tag(case=case, actor=me, add=["Cash Heavy", "pep"])
    case = services.case_tag(case=case, actor=me, add=["pep", "mule"], remove=["cash-heavy"])
    assert case.tags == ["pep", "mule"]
    with pytest.raises(ValidationError, match="letters, digits"):
        services.case_tag(case=case, actor=me, add=["<script>"])


@override_settings(SENTINEL_CASE_SLA_HOURS={"low": 1, "medium": 2, "high": 3, "critical": 4})
def test_the_sla_table_comes_from_settings():
    (case,) = services.cases_from_alerts(alerts=[f.alert(severity="medium")])
    assert case.due_at == case.created_at + timedelta(hours=2)


# --- Concurrency -------------------------------------------------------------------------------


def _together(*works) -> list:
    """Run the works on their own threads and connections, started together; their results
    (or the exceptions they raised)."""
    barrier = threading.Barrier(len(works))
    results: list = [None] * len(works)

    def run(index, work):
        try:
            barrier.wait(5)
            results[index] = work()
        except Exception as error:  # noqa: BLE001 - reported to the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_investigators_claiming_one_case_one_wins_and_the_other_is_told():
    case = f.case()
    ana, bo = f.investigator(), f.investigator()

    results = _together(
        lambda: services.case_claim(case=case, actor=ana),
        lambda: services.case_claim(case=case, actor=bo),
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], services.CaseStateError)
    case.refresh_from_db()
    assert case.assignee in (ana, bo)
    assert _events(case).count(CaseEventType.ASSIGNED) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_tags_and_notes_are_all_kept():
    case = f.case()
    ana, bo = f.investigator(), f.investigator()

    results = _together(
        lambda: services.case_tag(case=case, actor=ana, add=["pep"]),
        lambda: services.case_tag(case=case, actor=bo, add=["mule"]),
        lambda: services.case_add_note(case=case, actor=ana, body="one"),
        lambda: services.case_add_note(case=case, actor=bo, body="two"),
    )

    assert not [r for r in results if isinstance(r, Exception)]
    case.refresh_from_db()
    assert sorted(case.tags) == ["mule", "pep"]
    assert sorted(case.notes.values_list("body", flat=True)) == ["one", "two"]
    assert case.version == 5  # each change counted once


@pytest.mark.django_db(transaction=True)
def test_two_claim_next_at_once_take_two_different_cases():
    partner = PartnerBankFactory()
    f.case(partner=partner, customer="C1", priority=900)
    f.case(partner=partner, customer="C2", priority=800)
    ana, bo = f.investigator(), f.investigator()

    results = _together(
        lambda: services.case_claim_next(actor=ana),
        lambda: services.case_claim_next(actor=bo),
    )

    assert all(isinstance(r, Case) for r in results), results
    assert results[0].pk != results[1].pk


@pytest.mark.django_db(transaction=True)
def test_alerts_of_one_new_subject_scored_at_once_make_one_case():
    partner = PartnerBankFactory()
    rule = f.a_rule()
    first = f.alert(partner=partner, rule=rule, account="A1")
    second = f.alert(partner=partner, rule=rule, account="A2")

    results = _together(
        lambda: services.cases_from_alerts(alerts=[first]),
        lambda: services.cases_from_alerts(alerts=[second]),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    case = Case.objects.get()
    assert case.alert_links.count() == 2


def test_a_senior_routes_a_case_to_a_team_and_investigators_cannot():
    case, payments = f.case(), f.team("Payments")
    case = services.case_set_team(case=case, team=payments, actor=f.senior())
    assert case.team == payments
    event = CaseEvent.objects.get(case=case, type=CaseEventType.TEAM_CHANGED)
    assert event.parameters == {"from": None, "to": "payments"}
    with pytest.raises(services.CasePermissionError):
        services.case_set_team(case=case, team=None, actor=f.investigator())


def test_what_a_report_needs_from_a_case():
    from cases.selectors import case_typologies, transactions_of

    partner = PartnerBankFactory()
    rule = f.a_rule(typologies=["structuring", "velocity"])
    only_these_rules(rule)
    ids = f.ingest_and_score(partner, f.payment(amount="9900.00"), f.payment(amount="9800.00"))
    case = Case.objects.get()

    assert case.reference == f"CASE-{case.pk:06d}"
    assert case_typologies(case) == ["structuring", "velocity"]
    assert set(transactions_of(case).values_list("pk", flat=True)) == set(ids)


def test_an_updated_alert_and_a_new_one_of_the_same_case_in_one_call():
    partner = PartnerBankFactory()
    first = f.alert(partner=partner, account="A1", severity="low", priority=300)
    (case,) = services.cases_from_alerts(alerts=[first])
    Alert.objects.filter(pk=first.pk).update(severity="high", priority=1200)  # more hits
    first.refresh_from_db()
    second = f.alert(partner=partner, account="A2", severity="medium", priority=600)

    services.cases_from_alerts(alerts=[first, second])

    case.refresh_from_db()
    assert (case.severity, case.priority, case.version) == ("high", 1200, 2)
    assert _events(case) == ["opened", "alerts_attached", "alert_updated"]


def test_intake_writes_a_batch_of_cases_in_a_fixed_number_of_statements(
    django_assert_max_num_queries,
):
    """Scoring hands over hundreds of alerts a batch: links, history and case updates are one
    statement each, whatever the number of cases (only a case that opens costs its insert)."""
    partner = PartnerBankFactory()
    alerts = [
        f.alert(partner=partner, account=f"A{n}", customer=f"C{n}", severity="low", priority=300)
        for n in range(12)
    ]
    opened = services.cases_from_alerts(alerts=alerts)
    Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(severity="high", priority=1200)
    raised = list(Alert.objects.filter(pk__in=[a.pk for a in alerts]))
    joining = [
        f.alert(partner=partner, account=f"B{n}", customer=f"C{n}", severity="medium")
        for n in range(12)
    ]

    with django_assert_max_num_queries(10):
        changed = services.cases_from_alerts(alerts=[*raised, *joining])

    assert len(opened) == len(changed) == 12
    for case in Case.objects.filter(pk__in=[c.pk for c in opened]):
        assert (case.severity, case.priority, case.version) == ("high", 1200, 2)
        assert case.alert_links.count() == 2
        assert _events(case) == ["opened", "alerts_attached", "alert_updated"]


def test_a_further_hit_that_moves_nothing_leaves_the_case_alone():
    partner = PartnerBankFactory()
    alert = f.alert(partner=partner, account="A1", severity="high", priority=900)
    (case,) = services.cases_from_alerts(alerts=[alert])
    version = Case.objects.get(pk=case.pk).version

    Alert.objects.filter(pk=alert.pk).update(occurrences=2)  # one more hit, same severity
    alert.refresh_from_db()
    changed = services.cases_from_alerts(alerts=[alert])

    assert changed == []
    assert Case.objects.get(pk=case.pk).version == version
    assert _events(case) == ["opened"]


def test_closing_as_sar_filed_needs_an_exported_report():
    case = f.case(status=CaseStatus.INVESTIGATING)
    before = _unchanged(case)

    with pytest.raises(services.CaseStateError, match="suspicious-activity report"):
        services.case_propose_closure(
            case=case, actor=case.assignee, disposition="sar_filed", reason="Layering."
        )

    assert _unchanged(case) == before
    case = f.exported_sar(case)
    proposed = services.case_propose_closure(
        case=case, actor=case.assignee, disposition="sar_filed", reason="Layering."
    )
    assert proposed.status == "pending_approval"
