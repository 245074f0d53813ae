"""Output shapes of the staff rules API."""

from __future__ import annotations

from rest_framework import serializers

from rules.models import Rule, RuleVersion


class RuleVersionSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    partners = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = RuleVersion
        fields = [
            "number",
            "name",
            "description",
            "typologies",
            "expression",
            "severity",
            "score",
            "outcome",
            "partners",
            "transaction_types",
            "suppression_seconds",
            "author",
            "created_at",
            "comment",
        ]
        read_only_fields = fields


class RuleSerializer(serializers.ModelSerializer):
    version = RuleVersionSerializer(read_only=True, help_text="The version in effect.")

    class Meta:
        model = Rule
        fields = ["id", "code", "status", "version", "created_at", "updated_at"]
        read_only_fields = fields
