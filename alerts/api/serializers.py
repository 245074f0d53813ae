"""Shapes of the staff alert API; the list shape carries the contract's alert fields."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerts.models import MAX_DISMISS_REASON, Alert, AlertEvent, AlertTransaction


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
        return [str(link.transaction_id) for link in alert.links.all()]

    @extend_schema_field(OpenApiTypes.INT)
    def get_case_id(self, alert: Alert) -> None:
        return None  # cases are not built yet


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


class AlertEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AlertEvent
        fields = ["type", "actor", "parameters", "created_at"]
        read_only_fields = fields


class AlertDetailSerializer(AlertSerializer):
    hits = AlertHitSerializer(source="links", many=True, read_only=True)
    transactions = AlertTransactionSerializer(source="links", many=True, read_only=True)
    events = AlertEventSerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "hits", "transactions", "events"]
        read_only_fields = fields


class AlertDismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_DISMISS_REASON, allow_blank=False)

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return attrs
