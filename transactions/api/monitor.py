"""``GET /api/v1/monitor``: operational health of a partner's traffic (docs/api.md § Operational
monitor). Partners see their own traffic (signed requests); staff with the monitor
permission see any partner's (``?partner=<slug>``) or every partner's (``?partner=all``, the
default for staff)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from sentinel.api.exceptions import InvalidInput
from transactions.models import PartnerBank
from transactions.monitor import selectors
from transactions.monitor.choices import Dimension, Metric, Severity
from transactions.monitor.report import iso, monitor_report, partners_summary
from transactions.monitor.timing import MinuteError, resolve_minute

from .authentication import PartnerPrincipal, partner_of
from .serializers import ErrorSerializer
from .throttling import PartnerRateThrottle

ALL = "all"
VIEW_PERMISSION = "transactions.view_minutestat"


class IsPartnerOrMonitorViewer(BasePermission):
    message = "You do not have permission to view the operational monitor."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, PartnerPrincipal):
            return True
        return bool(user and user.is_authenticated and user.has_perm(VIEW_PERMISSION))


# --- Schema only: the view answers the report document (transactions.monitor.report) ---


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
    severity = serializers.ChoiceField(choices=Severity.choices)
    above_threshold = serializers.BooleanField()
    since = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(allow_null=True)


def _per_metric(name: str, child: type[serializers.Serializer]) -> serializers.Serializer:
    fields = {metric: child() for metric in Metric.values}
    return type(name, (serializers.Serializer,), fields)()


class MonitorSectionSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices)
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
    severity = serializers.ChoiceField(choices=Severity.choices)
    persistence_analysis = _per_metric("MonitorPartnerPersistence", _Persistence)


class MonitorReportSerializer(MonitorSectionSerializer):
    partner = serializers.CharField(help_text='The partner\'s slug, or "all".')
    current_minute = serializers.DateTimeField()
    settings = serializers.DictField()
    dimension = _DimensionBreakdown(required=False)
    partners = _PartnerSummary(many=True, required=False, help_text='Only for "all".')
    open_alerts = serializers.ListField(child=serializers.DictField(), required=False)


ERROR = OpenApiResponse(ErrorSerializer, description="See docs/api.md § Errors.")


class MonitorView(APIView):
    permission_classes = [IsPartnerOrMonitorViewer]
    throttle_classes = [PartnerRateThrottle]

    @extend_schema(
        operation_id="monitor_retrieve",
        summary="Operational health: per-minute rates, dynamic thresholds, persistence",
        parameters=[
            OpenApiParameter(
                "partner", str, description='Staff only: a partner\'s slug or "all" (default).'
            ),
            OpenApiParameter("dimension", str, enum=Dimension.values),
            OpenApiParameter(
                "at",
                str,
                description="Minute to judge (ISO 8601, UTC without an offset) or 'latest'; "
                "default: the last complete minute.",
            ),
        ],
        responses={200: MonitorReportSerializer, **{c: ERROR for c in (400, 401, 403, 404, 429)}},
    )
    def get(self, request):
        partners, label = _partners(request)
        dimension = _dimension(request.query_params.get("dimension"))
        try:
            at = resolve_minute(
                request.query_params.get("at"), partner_ids=[p.pk for p in partners]
            )
        except MinuteError as exc:
            raise InvalidInput({"at": [str(exc)]}) from exc
        document = monitor_report(partners=partners, at=at, dimension=dimension, label=label)
        if label == ALL:
            document["partners"] = partners_summary(partners=partners, at=at)
        document["open_alerts"] = [
            _alert(alert)
            for alert in selectors.operational_alerts_open()
            if alert.partner_id in {p.pk for p in partners}
        ]
        return Response(document)


def _partners(request) -> tuple[list[PartnerBank], str | None]:
    wanted = request.query_params.get("partner", "").strip()
    own = partner_of(request)
    if own is not None:
        if wanted == ALL:
            raise PermissionDenied("A partner sees only its own traffic.")
        if wanted and wanted != own.slug:
            raise NotFound()
        return [own], None
    if wanted and wanted != ALL:
        partner = PartnerBank.objects.filter(slug=wanted).first()
        if partner is None:
            raise NotFound()
        return [partner], None
    partners = selectors.monitored_partners()
    if not partners:
        raise NotFound("No active partner banks.")
    return partners, ALL


def _dimension(raw: str | None) -> str | None:
    if raw in (None, ""):
        return None
    if raw not in Dimension.values:
        raise InvalidInput({"dimension": [f"Must be one of {', '.join(Dimension.values)}."]})
    return raw


def _alert(alert) -> dict:
    return {
        "id": alert.pk,
        "partner": alert.partner.slug,
        "metric": alert.metric,
        "severity": alert.severity,
        "persistence_minutes": alert.persistence_minutes,
        "started_minute": iso(alert.started_minute),
        "last_minute": iso(alert.last_minute),
    }
