"""Serializer building blocks shared by the staff APIs."""

from __future__ import annotations

from rest_framework import serializers


class StrictInput(serializers.Serializer):
    """Input that refuses unknown fields (400, one message each) instead of dropping them."""

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(getattr(self, "initial_data", {}) or {}) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return attrs
