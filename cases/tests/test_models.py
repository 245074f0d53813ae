"""What the database itself guarantees about cases, whatever code writes to it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError
from django.db import transaction as db_transaction
from django.utils import timezone

from cases.choices import CaseStatus
from cases.models import Case, CaseEvent, CaseNote
from sentinel.history import AppendOnlyError

from . import factories as f

pytestmark = pytest.mark.django_db


def _refused(update) -> None:
    with pytest.raises((IntegrityError, InternalError, ProgrammingError)):
        with db_transaction.atomic():
            update()


def test_one_active_case_per_customer_and_per_account():
    case = f.case(customer="C1")
    twin = dict(partner=case.partner, account_external_id="A9", due_at=timezone.now())
    _refused(lambda: Case.objects.create(customer_external_id="C1", **twin))
    by_account = f.case(partner=case.partner, customer="", account="X1")
    _refused(
        lambda: Case.objects.create(
            partner=case.partner, account_external_id="X1", due_at=by_account.due_at
        )
    )


def test_a_closed_case_has_a_disposition_and_an_open_one_none():
    case = f.case(status=CaseStatus.INVESTIGATING)
    _refused(lambda: Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED))
    _refused(lambda: Case.objects.filter(pk=case.pk).update(disposition="no_action"))


def test_a_case_in_investigation_has_an_assignee():
    case = f.case()
    _refused(lambda: Case.objects.filter(pk=case.pk).update(status=CaseStatus.INVESTIGATING))


def test_a_pending_case_names_its_proposal():
    case = f.case(status=CaseStatus.INVESTIGATING)
    _refused(lambda: Case.objects.filter(pk=case.pk).update(status=CaseStatus.PENDING_APPROVAL))


def test_history_and_notes_cannot_be_changed_or_deleted():
    case = f.case()
    note = CaseNote.objects.create(case=case, author=f.investigator(), body="first")
    event = CaseEvent.objects.filter(case=case).first()

    _refused(lambda: CaseEvent.objects.filter(pk=event.pk).update(type="closed"))
    _refused(lambda: CaseEvent.objects.filter(pk=event.pk).delete())
    _refused(lambda: CaseNote.objects.filter(pk=note.pk).update(body="edited"))
    with pytest.raises(AppendOnlyError, match="append-only"):
        note.save()
