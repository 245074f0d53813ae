"""Cases: one investigation per subject customer, its alerts, notes, files and history."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from rules.choices import Severity
from sentinel.history import AppendOnlyModel
from transactions.models import PartnerBank

from .choices import (
    ACTIVE_STATUSES,
    CaseEventType,
    CaseStatus,
    Disposition,
    SarFormat,
    SlaState,
)

MAX_NOTE_LENGTH = 20_000
MAX_TAGS = 20
MAX_TAG_LENGTH = 32


def sla_due_at(*, severity: str, opened_at: datetime) -> datetime:
    """When a case of this severity must be closed (settings.SENTINEL_CASE_SLA_HOURS)."""
    return opened_at + timedelta(hours=settings.SENTINEL_CASE_SLA_HOURS[severity])


class AttachmentStorage(FileSystemStorage):
    """Files under settings.SENTINEL_ATTACHMENT_ROOT, outside the web root and without URLs:
    they are served only by cases.views.attachment_download, after a permission check.

    The location is read on every use so tests (and deployments) can move it by setting.
    """

    @property
    def base_location(self) -> str:
        return str(settings.SENTINEL_ATTACHMENT_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    @property
    def base_url(self) -> None:
        return None

    def url(self, name: str | None) -> str:
        raise ValueError("Case attachments have no public URL; use the download view.")


_storage = AttachmentStorage()


def attachment_storage() -> AttachmentStorage:
    return _storage


class Team(models.Model):
    """A group of investigators that cases are routed to (edited in the admin)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CaseQuerySet(models.QuerySet):
    def active(self) -> CaseQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)

    def of_subject(self, *, partner_id: int, customer_id: str, account_id: str) -> CaseQuerySet:
        """Cases of a subject: the customer when known, else the account."""
        if customer_id:
            return self.filter(partner_id=partner_id, customer_external_id=customer_id)
        return self.filter(
            partner_id=partner_id, customer_external_id="", account_external_id=account_id
        )

    def sla_state(self, state: str, *, now: datetime | None = None) -> CaseQuerySet:
        """Active cases by how close their due date is (closed cases have no SLA state)."""
        now = now or timezone.now()
        soon = now + timedelta(hours=settings.SENTINEL_CASE_DUE_SOON_HOURS)
        active = self.active()
        if state == SlaState.OVERDUE:
            return active.filter(due_at__lt=now)
        if state == SlaState.DUE_SOON:
            return active.filter(due_at__gte=now, due_at__lt=soon)
        if state == SlaState.ON_TIME:
            return active.filter(due_at__gte=soon)
        return self.none()


class Case(models.Model):
    """An investigation of one subject: a partner's customer, or an account when the alerts
    name no customer. At most one active (not closed) case per subject collects its alerts.

    - ``severity`` and ``priority`` are the highest of its alerts'; ``due_at`` follows from the
      severity's SLA (settings.SENTINEL_CASE_SLA_HOURS) counted from ``created_at``, and only
      ever moves earlier.
    - ``version`` grows by one with every change: clients send the version they saw and a
      stale one is refused (cases.services.CaseConflict), so no one overwrites a change unseen.
    - A closure needing four eyes (a SAR, or any critical case) waits in ``pending_approval``
      with ``proposed_by`` and ``proposed_disposition`` set until another senior decides.
    """

    partner = models.ForeignKey(PartnerBank, on_delete=models.PROTECT, related_name="cases")
    customer_external_id = models.CharField(
        max_length=64, blank=True, help_text="The subject customer; empty when unknown."
    )
    account_external_id = models.CharField(
        max_length=64, help_text="The account of the first alert (the subject when no customer)."
    )
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.LOW)
    priority = models.PositiveIntegerField(default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    tags = ArrayField(models.CharField(max_length=MAX_TAG_LENGTH), default=list, blank=True)
    due_at = models.DateTimeField()
    proposed_disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closure_reason = models.TextField(blank=True, max_length=MAX_NOTE_LENGTH)
    # The SHA-256 of the goAML XML export a "SAR filed" closure was proposed with: the
    # approver approves that file, and no other (cases.services.workflow).
    proposed_sar_sha256 = models.CharField(max_length=64, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-priority", "due_at", "id"]
        permissions = [
            ("work_case", "Work cases: claim, investigate, note, propose closure"),
            ("assign_case", "Assign cases to other investigators"),
            ("approve_case", "Approve or send back closures (four eyes)"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CaseStatus.values), name="case_status"),
            models.CheckConstraint(
                condition=Q(disposition="") | Q(disposition__in=Disposition.values),
                name="case_disposition_valid",
            ),
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="case_severity_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=CaseStatus.CLOSED) & ~Q(disposition="") & Q(closed_at__isnull=False)
                )
                | (~Q(status=CaseStatus.CLOSED) & Q(disposition="") & Q(closed_at__isnull=True)),
                name="case_closed_iff_disposition",
            ),
            models.CheckConstraint(
                condition=Q(status=CaseStatus.OPEN) | Q(assignee__isnull=False),
                name="case_worked_has_assignee",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=CaseStatus.PENDING_APPROVAL)
                    & Q(proposed_by__isnull=False)
                    & Q(proposed_disposition__in=Disposition.values)
                )
                | (
                    ~Q(status=CaseStatus.PENDING_APPROVAL)
                    & Q(proposed_by__isnull=True)
                    & Q(proposed_disposition="")
                ),
                name="case_pending_has_proposal",
            ),
            models.CheckConstraint(
                condition=Q(proposed_sar_sha256="")
                | (
                    Q(status=CaseStatus.PENDING_APPROVAL)
                    & Q(proposed_disposition=Disposition.SAR_FILED)
                    & Q(proposed_sar_sha256__regex=r"^[0-9a-f]{64}$")
                ),
                name="case_pinned_sar_only_while_pending",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="case_version_positive"),
            models.UniqueConstraint(
                fields=["partner", "customer_external_id"],
                condition=Q(status__in=ACTIVE_STATUSES) & ~Q(customer_external_id=""),
                name="case_one_active_per_customer",
                violation_error_message="This customer already has an open case.",
            ),
            models.UniqueConstraint(
                fields=["partner", "account_external_id"],
                condition=Q(status__in=ACTIVE_STATUSES) & Q(customer_external_id=""),
                name="case_one_active_per_account",
                violation_error_message="This account already has an open case.",
            ),
        ]
        indexes = [
            models.Index(fields=["-priority", "due_at", "id"], name="case_queue"),
            models.Index(fields=["status", "-priority"], name="case_status_queue"),
            models.Index(fields=["assignee", "status"], name="case_assignee"),
            # With what the reports' SLA figures read (sentinel.reports): an index-only scan.
            models.Index(
                fields=["due_at"], include=["partner", "severity", "closed_at"], name="case_due"
            ),
            # The reports read the cases closed in a period (sentinel.reports) from this index
            # alone (an index-only scan).
            models.Index(
                fields=["closed_at"],
                include=[
                    "id",
                    "partner",
                    "severity",
                    "disposition",
                    "created_at",
                    "assignee",
                    "team",
                ],
                name="case_report",
            ),
            models.Index(fields=["partner", "account_external_id"], name="case_subject_account"),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk} on {self.subject_label}"

    def get_absolute_url(self) -> str:
        return reverse("cases:detail", kwargs={"pk": self.pk})

    @property
    def reference(self) -> str:
        """How reports and exports name the case."""
        return f"CASE-{self.pk:06d}"

    @property
    def subject_label(self) -> str:
        if self.customer_external_id:
            return f"customer {self.customer_external_id}"
        return f"account {self.account_external_id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_closed(self) -> bool:
        return self.status == CaseStatus.CLOSED

    def sla_state(self, now: datetime | None = None) -> str:
        if not self.is_active:
            return ""
        now = now or timezone.now()
        if self.due_at < now:
            return SlaState.OVERDUE
        if self.due_at < now + timedelta(hours=settings.SENTINEL_CASE_DUE_SOON_HOURS):
            return SlaState.DUE_SOON
        return SlaState.ON_TIME


class CaseAlert(models.Model):
    """An alert collected by a case. The link lives here so the alerts app knows no cases."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="alert_links")
    alert = models.OneToOneField(Alert, on_delete=models.PROTECT, related_name="case_link")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"alert #{self.alert_id} in case #{self.case_id}"


class CaseSubject(models.Model):
    """Another subject a case investigates besides its own: the customer (or, with none, the
    customer-side account) of an alert that joined the case because it is about the same ring
    (one case per ring, docs/cases.md § Rings across subjects). The case keeps its own subject
    (its queue row, its SAR's subject); this row is why the other's alerts went there, and
    what the queue's subject filter and the account page find it by.

    ``active`` copies the case's status (a PostgreSQL trigger keeps it, cases migration 0009),
    so the database holds that a subject is linked to at most one active case: its later
    alerts have one place to go."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="linked_subjects")
    partner = models.ForeignKey(PartnerBank, on_delete=models.PROTECT, related_name="+")
    customer_external_id = models.CharField(max_length=64, blank=True)
    account_external_id = models.CharField(
        max_length=64, help_text="The customer-side account of the alert that linked it."
    )
    alert = models.ForeignKey(
        Alert, on_delete=models.PROTECT, related_name="+", help_text="The alert that linked it."
    )
    active = models.BooleanField(default=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(account_external_id=""), name="case_subject_account_set"
            ),
            models.UniqueConstraint(
                fields=["case", "customer_external_id"],
                condition=~Q(customer_external_id=""),
                name="case_subject_customer_once",
            ),
            models.UniqueConstraint(
                fields=["case", "account_external_id"],
                condition=Q(customer_external_id=""),
                name="case_subject_account_once",
            ),
            models.UniqueConstraint(
                fields=["partner", "customer_external_id"],
                condition=Q(active=True) & ~Q(customer_external_id=""),
                name="case_subject_customer_one_active",
                violation_error_message="This customer is already linked to an open case.",
            ),
            models.UniqueConstraint(
                fields=["partner", "account_external_id"],
                condition=Q(active=True) & Q(customer_external_id=""),
                name="case_subject_account_one_active",
                violation_error_message="This account is already linked to an open case.",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "account_external_id"], name="case_linked_account")
        ]

    def __str__(self) -> str:
        who = self.customer_external_id or self.account_external_id
        return f"{who} linked to case #{self.case_id}"


class CaseEvent(AppendOnlyModel):
    """One step in a case's history, by a person or (actor empty) by the system."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    type = models.CharField(max_length=20, choices=CaseEventType.choices)
    parameters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=CaseEventType.values), name="case_event_type_valid"
            ),
        ]
        indexes = [models.Index(fields=["case", "created_at"], name="case_event_case_time")]

    def __str__(self) -> str:
        return f"{self.type} on case #{self.case_id}"


class CaseNote(AppendOnlyModel):
    """An investigator's note in markdown (rendered sanitised); notes are never edited."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=MAX_NOTE_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="case_note_not_empty"),
        ]

    def __str__(self) -> str:
        return f"note #{self.pk} on case #{self.case_id}"


def _attachment_path(attachment: CaseAttachment, filename: str) -> str:
    return f"case-{attachment.case_id}/{attachment.sha256[:16]}-{filename}"


class CaseAttachment(AppendOnlyModel):
    """Evidence file of a case, stored outside the web root (see ``AttachmentStorage``)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to=_attachment_path, storage=attachment_storage, max_length=300)
    filename = models.CharField(max_length=200, help_text="The name it was uploaded with.")
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="case_attachment_not_empty"),
        ]

    def __str__(self) -> str:
        return self.filename


class SarReportingEntity(models.Model):
    """A partner bank's registration with its FIU's goAML: who a SAR names as the filer.

    ``codes`` maps Sentinel's values to the FIU's lookup codes, as
    ``{"funds_codes": {...}, "transmode_codes": {...}, "indicator_codes": {...}}``; values
    without a mapping are written as Sentinel's own code (docs/sar.md).
    """

    partner = models.OneToOneField(PartnerBank, on_delete=models.CASCADE, related_name="sar_entity")
    rentity_id = models.PositiveIntegerField(help_text="The id the FIU's goAML gave the bank.")
    rentity_branch = models.CharField(max_length=255, blank=True)
    swift = models.CharField(max_length=11, blank=True)
    institution_code = models.CharField(max_length=50, blank=True)
    country = models.CharField(max_length=2, blank=True)
    address = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    codes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "SAR reporting entity"

    def __str__(self) -> str:
        return f"{self.partner} (goAML {self.rentity_id})"

    def settings(self) -> dict:
        """The shape ``cases.sar.reporting_entity_for`` reads."""
        fields = ["rentity_id", "rentity_branch", "swift", "institution_code", "country"]
        fields += ["address", "city"]
        config = {name: getattr(self, name) for name in fields}
        for kind in ("funds_codes", "transmode_codes", "indicator_codes"):
            if isinstance(self.codes.get(kind), dict):
                config[kind] = self.codes[kind]
        return config


class SuspiciousActivityReport(models.Model):
    """The SAR of a case: a goAML-shaped draft pre-filled from the case, edited by the
    investigator, exported (and re-exported) as files that are kept with their hashes."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="sar")
    document = models.JSONField(help_text="cases.sar.SarDocument.to_dict()")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "suspicious-activity report"

    def __str__(self) -> str:
        return f"SAR of case #{self.case_id}"


def _sar_path(sar_file: SarFile, filename: str) -> str:
    return f"case-{sar_file.report.case_id}/sar/{sar_file.sha256[:16]}-{filename}"


class SarFile(AppendOnlyModel):
    """One exported SAR file; never changed (sentinel.history), a new export adds more."""

    report = models.ForeignKey(
        SuspiciousActivityReport, on_delete=models.PROTECT, related_name="files"
    )
    format = models.CharField(max_length=4, choices=SarFormat.choices)
    file = models.FileField(upload_to=_sar_path, storage=attachment_storage, max_length=300)
    filename = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["report", "-created_at", "format"]
        constraints = [
            models.CheckConstraint(
                condition=Q(format__in=SarFormat.values), name="sar_file_format"
            ),
        ]

    def __str__(self) -> str:
        return self.filename
