"""Schemas of ``GET /api/v1/monitor`` for OpenAPI only: the view answers the report document
(sentinel.monitoring.report) as it is, so nothing here runs per request."""

from __future__ import annotations

from rest_framework import serializers

from ..choices import Dimension, HealthSeverity, Metric


class _Metrics(serializers.Serializer):
    total = serializers.IntegerField()
    approved = serializers.IntegerField()
    failed = serializers.IntegerField()
    denied = serializers.IntegerField()
    reversed = serializers.IntegerField()
    failed_rate = serializers.FloatField(allow_null=True)
    denied_rate = serializers.FloatField(allow_null=True)
    reversed_rate = serializers.FloatField(allow_null=True)
    latency_count = serializers.IntegerField()
    latency_p50_ms = serializers.FloatField(allow_null=True)
    latency_p95_ms = serializers.FloatField(allow_null=True)


class _Threshold(serializers.Serializer):
    value = serializers.FloatField(
        allow_null=True, help_text="mean + sigmas × σ (at least the floor margin)."
    )
    mean = serializers.FloatField(allow_null=True)
    stddev = serializers.FloatField(allow_null=True)
    method = serializers.CharField()
    baseline_minutes = serializers.IntegerField()
    reason = serializers.CharField(allow_null=True, help_text="Why there is no threshold.")


class _Persistence(serializers.Serializer):
    consecutive_minutes = serializers.IntegerField()
    severity = serializers.ChoiceField(choices=HealthSeverity.choices)
    above_threshold = serializers.BooleanField()
    since = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(allow_null=True)


def _per_metric(name: str, child: type[serializers.Serializer]) -> serializers.Serializer:
    fields = {metric: child() for metric in Metric.values}
    return type(name, (serializers.Serializer,), fields)()


class MonitorSectionSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=HealthSeverity.choices)
    metrics = _Metrics()
    thresholds = _per_metric("MonitorThresholds", _Threshold)
    persistence_analysis = _per_metric("MonitorPersistence", _Persistence)


class _DimensionValue(MonitorSectionSerializer):
    value = serializers.CharField()


class _DimensionBreakdown(serializers.Serializer):
    name = serializers.ChoiceField(choices=Dimension.values)
    values = _DimensionValue(many=True)


class _PartnerSummary(serializers.Serializer):
    partner = serializers.CharField()
    severity = serializers.ChoiceField(choices=HealthSeverity.choices)
    persistence_analysis = _per_metric("MonitorPartnerPersistence", _Persistence)


class MonitorReportSerializer(MonitorSectionSerializer):
    partner = serializers.CharField(help_text='The partner\'s slug, or "all".')
    current_minute = serializers.DateTimeField()
    settings = serializers.DictField()
    dimension = _DimensionBreakdown(required=False)
    partners = _PartnerSummary(many=True, required=False, help_text='Only for "all".')
    open_alerts = serializers.ListField(child=serializers.DictField(), required=False)
