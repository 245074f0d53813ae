"""Output shapes of the partner transaction API (input is validated by transactions.schemas).

The API is where the partner meets the whole pipeline, so it shows the rule engine's decision
(rules.selectors) next to the stored transaction.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rules.selectors import decision_payload
from sentinel.api.serializers import drf_timestamp
from transactions.models import Transaction
from transactions.money import minor_units


class HitSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="The rule's code.")
    version = serializers.IntegerField(help_text="The rule version that fired.")
    severity = serializers.ChoiceField(choices=["low", "medium", "high", "critical"])
    explanation = serializers.CharField(help_text="Why it fired, with the values involved.")


class DecisionSerializer(serializers.Serializer):
    """The rule engine's decision (live rules only)."""

    outcome = serializers.ChoiceField(choices=["allow", "review", "block"])
    score = serializers.IntegerField()
    hits = HitSerializer(many=True)
    degraded = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Feature providers that failed: the decision was made without them "
        "(present only when one did).",
    )


class PartySerializer(serializers.Serializer):
    account_id = serializers.CharField(allow_null=True)
    customer_id = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    country = serializers.CharField(allow_null=True)
    bank = serializers.CharField(allow_null=True)


def _party(transaction: Transaction, side: str) -> dict:
    return {key: value or None for key, value in transaction.party(side).items()}


class TransactionSerializer(serializers.ModelSerializer):
    """A transaction as stored, in the contract's shape, with its scoring state."""

    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    # Stored as "" when absent, answered as null (see to_representation).
    channel = serializers.CharField(allow_null=True)
    device_id = serializers.CharField(allow_null=True)
    product = serializers.CharField(allow_null=True)
    acquirer = serializers.CharField(allow_null=True)
    card_type = serializers.CharField(allow_null=True)
    mcc = serializers.CharField(allow_null=True)
    originator = serializers.SerializerMethodField()
    beneficiary = serializers.SerializerMethodField()
    scoring = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()

    class Meta:
        model = Transaction
        fields = [
            "id",
            "partner",
            "external_id",
            "occurred_at",
            "received_at",
            "amount",
            "currency",
            "type",
            "status",
            "direction",
            "channel",
            "originator",
            "beneficiary",
            "device_id",
            "ip_address",
            "product",
            "acquirer",
            "card_type",
            "mcc",
            "latency_ms",
            "metadata",
            "scoring",
            "decision",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Transaction) -> dict:
        """The fields declared above, written directly rather than by DRF's generic walk,
        which cost most of a 500-row page; held equal to the generic walk by the tests."""
        zone = timezone.get_current_timezone()
        decision = _decision(instance)
        return {
            "id": str(instance.id),
            "partner": instance.partner.slug,
            "external_id": instance.external_id,
            "occurred_at": drf_timestamp(instance.occurred_at, zone),
            "received_at": drf_timestamp(instance.received_at, zone),
            "amount": _plain_amount(instance),
            "currency": instance.currency,
            "type": instance.type,
            "status": instance.status,
            "direction": instance.direction,
            "channel": instance.channel or None,
            "originator": _party(instance, "originator"),
            "beneficiary": _party(instance, "beneficiary"),
            "device_id": instance.device_id or None,
            "ip_address": None if instance.ip_address is None else str(instance.ip_address),
            "product": instance.product or None,
            "acquirer": instance.acquirer or None,
            "card_type": instance.card_type or None,
            "mcc": instance.mcc or None,
            "latency_ms": instance.latency_ms,
            "metadata": instance.metadata,
            "scoring": "pending" if decision is None else "done",
            "decision": None if decision is None else decision_payload(decision),
        }

    @extend_schema_field(PartySerializer)
    def get_originator(self, instance: Transaction) -> dict:
        return _party(instance, "originator")

    @extend_schema_field(PartySerializer)
    def get_beneficiary(self, instance: Transaction) -> dict:
        return _party(instance, "beneficiary")

    def get_scoring(self, instance: Transaction) -> str:
        """'pending' until the rule engine has decided."""
        return "done" if _decision(instance) is not None else "pending"

    @extend_schema_field(DecisionSerializer(allow_null=True))
    def get_decision(self, instance: Transaction) -> dict | None:
        decision = _decision(instance)
        return None if decision is None else decision_payload(decision)


def _decision(instance: Transaction):
    try:
        return instance.decision
    except ObjectDoesNotExist:
        return None


def _plain_amount(instance: Transaction) -> str:
    """The amount with the currency's decimals (stored with four)."""
    places = minor_units(instance.currency)
    return f"{instance.amount:.{places}f}"


class TransactionAcceptedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    external_id = serializers.CharField()
    received_at = serializers.DateTimeField()
    scoring = serializers.ChoiceField(choices=["pending", "done"])
    decision = DecisionSerializer(required=False, help_text="Only with ?wait=true.")


class BatchItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "duplicate", "conflict", "invalid"])
    id = serializers.UUIDField(required=False)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


class BatchResultSerializer(serializers.Serializer):
    results = BatchItemResultSerializer(many=True)
    created = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    conflict = serializers.IntegerField()
    invalid = serializers.IntegerField()
