"""The API's error shape, shared by every app's endpoints (docs/api.md § Errors)."""

from __future__ import annotations

from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


class ErrorSerializer(serializers.Serializer):
    """The contract's error body: {"error": {"code", "message", "fields"?}}."""

    error = ErrorDetailSerializer()


class TransactionLabelSerializer(serializers.Serializer):
    """A transaction's current label from one source, for the staff APIs (docs/detection.md §
    Labels)."""

    source = serializers.CharField()
    outcome = serializers.CharField()
    weight = serializers.DecimalField(max_digits=3, decimal_places=2)
    occurred_at = serializers.DateTimeField()
    reason = serializers.CharField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    reference = serializers.CharField()
    received_at = serializers.DateTimeField()
