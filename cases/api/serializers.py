"""Shapes of the staff case API. ``CaseSerializer`` is also the websocket's ``case`` object."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerts.api.serializers import AlertSerializer
from cases.choices import Disposition
from cases.markdown import render_markdown
from cases.models import (
    MAX_NOTE_LENGTH,
    MAX_TAGS,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseNote,
    Team,
)
from cases.selectors import case_transactions
from rules.choices import Typology
from sentinel.api.serializers import StrictInput
from transactions.api.serializers import TransactionLabelSerializer


class CaseSubjectSerializer(serializers.Serializer):
    partner = serializers.CharField(source="partner.slug", help_text="Partner slug.")
    customer_id = serializers.SerializerMethodField()
    account_id = serializers.CharField(
        source="account_external_id", help_text="The account of the case's first alert."
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_customer_id(self, case: Case) -> str | None:
        return case.customer_external_id or None


class CaseSerializer(serializers.ModelSerializer):
    subject = CaseSubjectSerializer(source="*")
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    sla_state = serializers.SerializerMethodField()
    alert_count = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "status",
            "disposition",
            "severity",
            "priority",
            "subject",
            "assignee",
            "team",
            "tags",
            "due_at",
            "sla_state",
            "alert_count",
            "rules",
            "version",
            "created_at",
            "updated_at",
            "closed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(help_text="on_time, due_soon, overdue or empty"))
    def get_sla_state(self, case: Case) -> str:
        return str(case.sla_state())

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_alert_count(self, case: Case) -> int | None:
        return getattr(case, "alert_count", None)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_rules(self, case: Case) -> list[str]:
        return getattr(case, "rule_codes", [])


class CaseEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CaseEvent
        fields = ["id", "type", "actor", "parameters", "created_at"]
        read_only_fields = fields


class CaseNoteSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    html = serializers.SerializerMethodField(help_text="The body rendered and sanitised.")

    class Meta:
        model = CaseNote
        fields = ["id", "author", "body", "html", "created_at"]
        read_only_fields = fields

    def get_html(self, note: CaseNote) -> str:
        return str(render_markdown(note.body))


class CaseAttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CaseAttachment
        fields = ["id", "filename", "content_type", "size", "sha256", "uploaded_by", "created_at"]
        read_only_fields = fields


class CaseHitSerializer(serializers.Serializer):
    rule = serializers.CharField(source="rule.code")
    version = serializers.IntegerField(source="rule_version.number")
    severity = serializers.CharField()
    explanation = serializers.CharField()


class CaseTransactionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="transaction.id")
    external_id = serializers.CharField(source="transaction.external_id")
    occurred_at = serializers.DateTimeField(source="transaction.occurred_at")
    amount = serializers.DecimalField(source="transaction.amount", max_digits=17, decimal_places=4)
    currency = serializers.CharField(source="transaction.currency")
    type = serializers.CharField(source="transaction.type")
    direction = serializers.CharField(source="transaction.direction")
    hits = CaseHitSerializer(many=True)
    labels = TransactionLabelSerializer(source="transaction.labels", many=True, read_only=True)


class CaseDetailSerializer(CaseSerializer):
    proposed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    alerts = serializers.SerializerMethodField()
    transactions = serializers.SerializerMethodField()
    notes = CaseNoteSerializer(many=True, read_only=True)
    attachments = CaseAttachmentSerializer(many=True, read_only=True)
    events = CaseEventSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields,
            "proposed_by",
            "proposed_disposition",
            "proposed_sar_sha256",
            "closure_reason",
            "alerts",
            "transactions",
            "notes",
            "attachments",
            "events",
        ]
        read_only_fields = fields

    @extend_schema_field(AlertSerializer(many=True))
    def get_alerts(self, case: Case) -> list[dict]:
        return AlertSerializer([link.alert for link in case.alert_links.all()], many=True).data

    @extend_schema_field(CaseTransactionSerializer(many=True))
    def get_transactions(self, case: Case) -> list[dict]:
        return CaseTransactionSerializer(case_transactions(case), many=True).data


# --- Input -------------------------------------------------------------------------------------


class VersionInput(StrictInput):
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The case version you saw; a stale one answers 409 and changes nothing.",
    )


class AssignInput(VersionInput):
    assignee = serializers.CharField(
        allow_null=True, help_text="Username of an investigator, or null to unassign."
    )


class TeamInput(VersionInput):
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), allow_null=True, help_text="Team slug."
    )


class NoteInput(VersionInput):
    body = serializers.CharField(max_length=MAX_NOTE_LENGTH, help_text="Markdown.")


class TagInput(VersionInput):
    add = serializers.ListField(child=serializers.CharField(), required=False, max_length=MAX_TAGS)
    remove = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=MAX_TAGS
    )


class ProposeClosureInput(VersionInput):
    disposition = serializers.ChoiceField(choices=Disposition.choices)
    reason = serializers.CharField(max_length=MAX_NOTE_LENGTH)


class ApproveInput(VersionInput):
    comment = serializers.CharField(max_length=MAX_NOTE_LENGTH, required=False, allow_blank=True)
    # For a SAR closure: the SHA-256 of the XML export the approver reviewed (the case's
    # proposed_sar_sha256); approval is refused if it is not the one proposed.
    sar_sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", required=False)


class SendBackInput(VersionInput):
    comment = serializers.CharField(max_length=MAX_NOTE_LENGTH)


class BulkAssignInput(StrictInput):
    case_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=500
    )
    assignee = serializers.CharField(help_text="Username of an investigator.")


class BulkAssignOutput(serializers.Serializer):
    assigned = serializers.ListField(child=serializers.IntegerField())
    skipped = serializers.DictField(child=serializers.CharField(), help_text="id -> reason")


class AttachmentInput(serializers.Serializer):
    file = serializers.FileField()


class SarEditInput(VersionInput):
    indicators = serializers.ListField(
        child=serializers.ChoiceField(choices=Typology.choices),
        required=False,
        max_length=20,
        help_text="Typologies to report as indicators (default: keep the current ones).",
    )
    reason = serializers.CharField(
        max_length=4000, allow_blank=True, help_text="The narrative: why it is suspicious."
    )
    action = serializers.CharField(
        max_length=4000, allow_blank=True, required=False, default="", help_text="Action taken."
    )


class SarFileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    format = serializers.CharField()
    filename = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()


class SarSerializer(serializers.Serializer):
    """The case's report: the goAML-shaped document as edited, and every exported file."""

    id = serializers.IntegerField(source="report.pk")
    case_id = serializers.IntegerField(source="report.case_id")
    document = serializers.JSONField(source="report.document")
    updated_by = serializers.CharField(source="report.updated_by.username")
    updated_at = serializers.DateTimeField(source="report.updated_at")
    files = SarFileSerializer(many=True)
