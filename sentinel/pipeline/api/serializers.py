"""Output shapes of the partner transaction API (input is validated by transactions.schemas).

The API is where the partner meets the whole pipeline, so it shows the rule engine's decision
(rules.selectors) next to the stored transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rules.selectors import decision_payload
from sentinel.api.serializers import StrictInput, drf_timestamp
from transactions.choices import PARTNER_OUTCOMES
from transactions.models import Transaction, TransactionLabel
from transactions.money import minor_units
from transactions.schemas import EARLIEST, MAX_FUTURE
from transactions.selectors import partner_feedback_of

MAX_FEEDBACK_REASON = 1000


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


class FeedbackSerializer(serializers.Serializer):
    """A partner's current outcome on one of its transactions (last one wins)."""

    outcome = serializers.ChoiceField(choices=list(PARTNER_OUTCOMES))
    occurred_at = serializers.DateTimeField()
    reason = serializers.CharField(allow_null=True)
    received_at = serializers.DateTimeField(help_text="When Sentinel recorded this outcome.")


def feedback_payload(label: TransactionLabel | None, zone=None) -> dict | None:
    """The label as ``FeedbackSerializer`` writes it (times in the active time zone)."""
    if label is None:
        return None
    zone = zone or timezone.get_current_timezone()
    return {
        "outcome": label.outcome,
        "occurred_at": drf_timestamp(label.occurred_at, zone),
        "reason": label.reason or None,
        "received_at": drf_timestamp(label.received_at, zone),
    }


class FeedbackRecordedSerializer(FeedbackSerializer):
    transaction = serializers.UUIDField(help_text="The transaction's id.")


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareTimestampField(serializers.Field):
    """An ISO 8601 string with a UTC offset, at most 5 minutes ahead of the server clock
    (as the transaction's own occurred_at): a naive time would be read in an unknown zone."""

    default_error_messages = {
        "type": "Must be an ISO 8601 string with an offset.",
        "format": "Must be an ISO 8601 timestamp such as 2026-11-22T09:00:00Z.",
        "offset": "Must include a UTC offset, for example Z or +01:00.",
        "future": "Must not be more than 5 minutes in the future.",
        "past": "Must not be before 1970.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("type")
        try:
            moment = datetime.fromisoformat(data)
        except ValueError:
            self.fail("format")
        if moment.tzinfo is None or moment.utcoffset() is None:
            self.fail("offset")
        moment = moment.astimezone(UTC)
        if moment > datetime.now(UTC) + MAX_FUTURE:
            self.fail("future")
        if moment < EARLIEST:
            self.fail("past")
        return moment

    def to_representation(self, value):
        return value.isoformat()


class StrictCharField(serializers.CharField):
    """A string, never a number turned into one."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class FeedbackInSerializer(StrictInput):
    """What a partner sends: its outcome on its own transaction."""

    outcome = serializers.ChoiceField(choices=list(PARTNER_OUTCOMES))
    occurred_at = AwareTimestampField(help_text="When the outcome happened; with an offset.")
    reason = StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=MAX_FEEDBACK_REASON,
        help_text=f"Optional, at most {MAX_FEEDBACK_REASON} characters.",
    )


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
    feedback = serializers.SerializerMethodField()

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
            "feedback",
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
            "feedback": feedback_payload(partner_feedback_of(instance), zone),
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

    @extend_schema_field(FeedbackSerializer(allow_null=True))
    def get_feedback(self, instance: Transaction) -> dict | None:
        """The partner's current outcome on it (an extension: docs/api.md § Feedback)."""
        return feedback_payload(partner_feedback_of(instance), timezone.get_current_timezone())


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
