"""Every history table is append-only, through the ORM and through raw SQL (sentinel.history)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection
from django.db import transaction as db_transaction
from django.db.models import ProtectedError
from django.utils import timezone

from alerts.choices import AlertEventType
from alerts.models import AlertEvent
from cases.models import CaseAttachment, CaseEvent, CaseNote, SarFile
from cases.tests import factories as f
from rules.models import RuleVersion
from sentinel.history import AppendOnlyError, AppendOnlyModel
from sentinel.monitoring.choices import HealthSeverity, Metric, OperationalAlertEventType
from sentinel.monitoring.models import OperationalAlert, OperationalAlertEvent
from transactions.choices import LabelOutcome, LabelSource, LabelWeight
from transactions.models import TransactionLabelEvent
from transactions.services import transaction_labels_record, transactions_ingest
from transactions.tests.factories import transaction_payload

pytestmark = pytest.mark.django_db

HISTORY_MODELS = [
    CaseEvent,
    CaseNote,
    CaseAttachment,
    SarFile,
    AlertEvent,
    RuleVersion,
    OperationalAlertEvent,
    TransactionLabelEvent,
]
HISTORY_TABLES = [model._meta.db_table for model in HISTORY_MODELS] + ["rules_ruleversion_partners"]


@pytest.fixture
def rows() -> dict[type, AppendOnlyModel]:
    """One stored row of every history model, written the way the app writes it."""
    case = f.case(status="investigating")
    f.exported_sar(case)
    investigator = case.assignee
    alert = case.alert_links.get().alert
    operational = OperationalAlert.objects.create(
        partner=case.partner,
        metric=Metric.values[0],
        severity=HealthSeverity.CRITICAL,
        started_minute=timezone.now(),
        last_minute=timezone.now(),
        persistence_minutes=3,
    )
    (sent,) = transactions_ingest(partner=case.partner, payloads=[transaction_payload()])
    transaction_labels_record(
        transaction_ids=[sent.id],
        source=LabelSource.ALERT_DISMISSAL,
        outcome=LabelOutcome.LEGITIMATE,
        weight=LabelWeight.ALERT_DISMISSED,
        reason="Salary, as every month.",
        actor=investigator,
        reference=f"alert #{alert.pk}",
    )
    return {
        CaseEvent: CaseEvent.objects.filter(case=case).first(),
        CaseNote: CaseNote.objects.create(case=case, author=investigator, body="Seen."),
        CaseAttachment: CaseAttachment.objects.create(
            case=case,
            uploaded_by=investigator,
            file="case-x/statement.pdf",
            filename="statement.pdf",
            content_type="application/pdf",
            size=10,
            sha256="0" * 64,
        ),
        SarFile: SarFile.objects.filter(report__case=case).first(),
        AlertEvent: AlertEvent.objects.create(alert=alert, type=AlertEventType.values[0]),
        RuleVersion: alert.rule_version,
        OperationalAlertEvent: OperationalAlertEvent.objects.create(
            alert=operational,
            type=OperationalAlertEventType.values[0],
            severity=HealthSeverity.CRITICAL,
            minute=timezone.now(),
            persistence_minutes=3,
        ),
        TransactionLabelEvent: TransactionLabelEvent.objects.get(transaction_id=sent.id),
    }


def _refused_by_database(sql: str, params=()) -> str:
    with pytest.raises(IntegrityError) as refused:
        with db_transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert not isinstance(refused.value, AppendOnlyError)  # the database said no, not Python
    return str(refused.value)


def test_every_history_model_uses_the_append_only_base():
    assert all(issubclass(model, AppendOnlyModel) for model in HISTORY_MODELS)


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda model: model.__name__)
def test_the_orm_refuses_to_change_or_delete_a_stored_row(rows, model):
    # Given a stored history row
    row = rows[model]
    assert row is not None and row.pk is not None
    count = model.objects.count()

    # When code tries to change or delete it, every ORM path says no, naming the model
    attempts = [
        row.save,
        lambda: row.save(update_fields=["pk"]),
        row.delete,
        lambda: model.objects.filter(pk=row.pk).update(pk=row.pk),
        lambda: model.objects.filter(pk=row.pk).delete(),
        lambda: model.objects.all().delete(),
        lambda: model.objects.bulk_update([row], ["pk"]),
    ]
    for attempt in attempts:
        with pytest.raises(AppendOnlyError, match=f"{model.__name__} rows are append-only"):
            attempt()

    # Then nothing changed
    assert model.objects.count() == count


def test_an_explicit_primary_key_inserts_and_never_overwrites(rows):
    # Given a stored note, when a new note is made carrying the stored one's id
    stored = rows[CaseNote]
    copy = CaseNote(pk=stored.pk, case=stored.case, author=stored.author, body="Overwritten?")

    # Then it is an insert, which the primary key refuses, and the stored note is unchanged
    with pytest.raises(IntegrityError), db_transaction.atomic():
        copy.save()
    assert CaseNote.objects.get(pk=stored.pk).body == "Seen."


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda model: model.__name__)
def test_the_database_refuses_raw_update_and_delete(rows, model):
    # Given a stored history row, when raw SQL (another client, a hand-typed fix) changes it
    row, table = rows[model], model._meta.db_table

    update = _refused_by_database(f"UPDATE {table} SET id = id WHERE id = %s", [row.pk])  # noqa: S608
    delete = _refused_by_database(f"DELETE FROM {table} WHERE id = %s", [row.pk])  # noqa: S608

    # Then the database refuses and says why; the row is still there
    assert f"UPDATE on {table}: history rows are append-only" in update
    assert f"DELETE on {table}: history rows are append-only" in delete
    assert model.objects.filter(pk=row.pk).exists()


def test_the_partner_scope_of_a_rule_version_cannot_be_rewritten():
    # Given a version scoped to one partner
    scoped = f.a_rule()
    partner = f.PartnerBankFactory()
    version = scoped.version
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO rules_ruleversion_partners (ruleversion_id, partnerbank_id) "
            "VALUES (%s, %s)",
            [version.pk, partner.pk],
        )

    # When its scope is widened or narrowed after the fact, the database refuses
    _refused_by_database(
        "DELETE FROM rules_ruleversion_partners WHERE ruleversion_id = %s", [version.pk]
    )
    with pytest.raises(IntegrityError), db_transaction.atomic():
        version.partners.clear()
    assert list(version.partners.all()) == [partner]


@pytest.mark.parametrize("table", HISTORY_TABLES)
def test_the_database_refuses_truncate(table):
    # Given a connection that has not asked to empty history (the test settings let Django's
    # flush do so; a real connection never does), when a history table is truncated
    with db_transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL sentinel.allow_history_truncate = 'off'")
        with pytest.raises(IntegrityError, match=r"TRUNCATE on \w+: history rows are append-only"):
            with db_transaction.atomic():
                cursor.execute(f"TRUNCATE {table} CASCADE")  # noqa: S608


def test_inserts_work_and_are_read_back(rows):
    # Given the rows the fixture wrote through each app's own paths, then all are readable
    for model, row in rows.items():
        assert model.objects.filter(pk=row.pk).exists(), model.__name__


def test_deleting_a_user_who_wrote_history_is_refused(rows):
    # Given an investigator with notes and events in a case, and an officer who authored a
    # rule version; when someone deletes them, history keeps its author instead
    note = rows[CaseNote]
    author = f.officer()
    version = f.a_rule(author=author).version
    for user in (note.author, author):
        with pytest.raises(ProtectedError), db_transaction.atomic():
            user.delete()
    assert RuleVersion.objects.get(pk=version.pk).author == author
