"""Serializer building blocks shared by the staff APIs."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rest_framework import serializers


class StrictInput(serializers.Serializer):
    """Input that refuses unknown fields (400, one message each) instead of dropping them."""

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(getattr(self, "initial_data", {}) or {}) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return attrs


def drf_timestamp(value: datetime | None, zone: tzinfo) -> str | None:
    """As DRF's DateTimeField writes a datetime (ISO 8601 in the active time zone, UTC as
    "Z"), for serializers that write their fields directly: lists of hundreds of rows."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
