"""Shapes of the staff alert API; the list shape carries the contract's alert fields."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerts.models import (
    MAX_DISMISS_REASON,
    MAX_SNOOZE_COMMENT,
    MAX_SNOOZE_DAYS,
    Alert,
    AlertEvent,
    AlertMember,
    AlertTransaction,
    Snooze,
)
from rules.models import Rule
from sentinel.api.serializers import StrictInput, drf_timestamp
from transactions.api.serializers import TransactionLabelSerializer
from transactions.models import PartnerBank


class AlertSubjectSerializer(serializers.Serializer):
    partner = serializers.CharField(source="partner.slug", help_text="Partner slug.")
    account_id = serializers.CharField(source="account_external_id")
    customer_id = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_customer_id(self, alert: Alert) -> str | None:
        return alert.customer_external_id or None


class AlertSerializer(serializers.ModelSerializer):
    score = serializers.IntegerField(source="priority", help_text="The alert's priority.")
    subject = AlertSubjectSerializer(source="*")
    rule = serializers.CharField(source="rule.code")
    rule_version = serializers.IntegerField(source="rule_version.number")
    transaction_ids = serializers.SerializerMethodField()
    case_id = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "status",
            "severity",
            "score",
            "priority",
            "subject",
            "rule",
            "rule_version",
            "transaction_ids",
            "case_id",
            "occurrences",
            "first_seen_at",
            "last_seen_at",
            "amount_involved",
            "currency",
            "dismiss_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_transaction_ids(self, alert: Alert) -> list[str]:
        """In the order they were linked (``alerts_with_latest_links`` gives the latest ones)."""
        latest = getattr(alert, "latest_transaction_ids", None)
        if latest is not None:
            return latest
        links = sorted(alert.links.all(), key=lambda link: link.id)
        return [str(link.transaction_id) for link in links]

    @extend_schema_field(OpenApiTypes.INT)
    def get_case_id(self, alert: Alert) -> int | None:
        link = getattr(alert, "case_link", None)  # reverse one-to-one kept by the cases app
        return link.case_id if link is not None else None

    def to_representation(self, alert: Alert) -> dict:
        """The fields declared above, read directly rather than by DRF's generic walk, which
        cost ~80 us an alert: a scoring batch pushes hundreds of alerts live (alerts.live).
        Held equal to the generic walk by the tests."""
        zone = timezone.get_current_timezone()
        return {
            "id": alert.pk,
            "status": alert.status,
            "severity": alert.severity,
            "score": alert.priority,
            "priority": alert.priority,
            "subject": {
                "partner": alert.partner.slug,
                "account_id": alert.account_external_id,
                "customer_id": alert.customer_external_id or None,
            },
            "rule": alert.rule.code,
            "rule_version": alert.rule_version.number,
            "transaction_ids": self.get_transaction_ids(alert),
            "case_id": self.get_case_id(alert),
            "occurrences": alert.occurrences,
            "first_seen_at": drf_timestamp(alert.first_seen_at, zone),
            "last_seen_at": drf_timestamp(alert.last_seen_at, zone),
            "amount_involved": _AMOUNT.to_representation(alert.amount_involved),
            "currency": alert.currency,
            "dismiss_reason": alert.dismiss_reason,
            "created_at": drf_timestamp(alert.created_at, zone),
            "updated_at": drf_timestamp(alert.updated_at, zone),
        }


_AMOUNT = serializers.DecimalField(
    max_digits=Alert._meta.get_field("amount_involved").max_digits,
    decimal_places=Alert._meta.get_field("amount_involved").decimal_places,
)


class AlertHitSerializer(serializers.ModelSerializer):
    transaction_id = serializers.UUIDField()
    rule = serializers.CharField(source="hit.rule.code")
    version = serializers.IntegerField(source="hit.rule_version.number")
    severity = serializers.CharField(source="hit.severity")
    explanation = serializers.CharField(source="hit.explanation")

    class Meta:
        model = AlertTransaction
        fields = ["transaction_id", "rule", "version", "severity", "explanation", "suppressed"]
        read_only_fields = fields


class AlertTransactionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="transaction.id")
    external_id = serializers.CharField(source="transaction.external_id")
    occurred_at = serializers.DateTimeField(source="transaction.occurred_at")
    amount = serializers.DecimalField(source="transaction.amount", max_digits=17, decimal_places=4)
    currency = serializers.CharField(source="transaction.currency")
    type = serializers.CharField(source="transaction.type")
    labels = TransactionLabelSerializer(source="transaction.labels", many=True, read_only=True)


class AlertMemberSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(source="account_external_id")

    class Meta:
        model = AlertMember
        fields = ["account_id", "role"]
        read_only_fields = fields


class AlertEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AlertEvent
        fields = ["type", "actor", "parameters", "created_at"]
        read_only_fields = fields


# What the detail adds to the list shape
_DETAIL_NESTED = ("hits", "transactions", "members", "events")


class AlertDetailSerializer(AlertSerializer):
    hits = AlertHitSerializer(source="hit_links", many=True, read_only=True)
    transactions = AlertTransactionSerializer(source="links", many=True, read_only=True)
    members = AlertMemberSerializer(many=True, read_only=True)
    events = AlertEventSerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, *_DETAIL_NESTED]
        read_only_fields = fields

    def to_representation(self, alert: Alert) -> dict:
        """The list shape, then the nested lists by DRF's own fields."""
        data = super().to_representation(alert)
        for name in _DETAIL_NESTED:
            field = self.fields[name]
            data[name] = field.to_representation(field.get_attribute(alert))
        return data


class AlertDismissSerializer(StrictInput):
    reason = serializers.CharField(max_length=MAX_DISMISS_REASON, allow_blank=False)


class SnoozeSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule.code")
    partner = serializers.CharField(source="partner.slug")
    account_id = serializers.CharField(source="account_external_id")
    created_by = serializers.CharField(source="created_by.username")
    lifted_by = serializers.CharField(source="lifted_by.username", allow_null=True, default=None)
    approved_by = serializers.CharField(
        source="approved_by.username", allow_null=True, default=None
    )
    active = serializers.BooleanField(source="is_active")
    state = serializers.ChoiceField(
        choices=["in_force", "awaiting_approval", "lifted", "over"],
        help_text="Over 30 days a snooze is awaiting_approval until a second person approves it.",
    )
    hits_silenced = serializers.IntegerField(help_text="Live hits that raised no alert.")

    class Meta:
        model = Snooze
        fields = [
            "id",
            "rule",
            "partner",
            "account_id",
            "comment",
            "created_by",
            "created_at",
            "ends_at",
            "active",
            "state",
            "approved_by",
            "approved_at",
            "lifted_at",
            "lifted_by",
            "lift_comment",
            "hits_silenced",
        ]
        read_only_fields = fields


class SnoozeForSerializer(StrictInput):
    """How long: either ``ends_at`` or ``days`` (1..180), and why."""

    ends_at = serializers.DateTimeField(required=False)
    days = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SNOOZE_DAYS)
    comment = serializers.CharField(max_length=MAX_SNOOZE_COMMENT)

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if ("ends_at" in attrs) == ("days" in attrs):
            raise serializers.ValidationError({"ends_at": ["Give either ends_at or days."]})
        if "days" in attrs:
            attrs["ends_at"] = timezone.now() + timedelta(days=attrs.pop("days"))
        return attrs


class SnoozeCreateSerializer(SnoozeForSerializer):
    rule = serializers.SlugRelatedField(slug_field="code", queryset=Rule.objects.all())
    partner = serializers.SlugRelatedField(slug_field="slug", queryset=PartnerBank.objects.all())
    account_id = serializers.CharField(max_length=64)


class SnoozeLiftSerializer(StrictInput):
    comment = serializers.CharField(max_length=MAX_SNOOZE_COMMENT, required=False, allow_blank=True)
