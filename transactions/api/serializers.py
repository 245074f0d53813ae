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
