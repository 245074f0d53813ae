"""``GET /api/v1/monitor``: operational health of a partner's traffic (docs/api.md § Operational
monitor). Partners see their own traffic (signed requests); staff with the monitor
permission see any partner's (``?partner=<slug>``) or every partner's (``?partner=all``, the
default for staff)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from sentinel.api.exceptions import InvalidInput
from transactions.api.authentication import PartnerPrincipal, partner_of
from transactions.api.serializers import ErrorSerializer
from transactions.api.throttling import PartnerRateThrottle
from transactions.models import PartnerBank

from .. import selectors
from ..choices import Dimension
from ..report import iso, monitor_report, partners_summary
from ..timing import MinuteError, resolve_minute
from .serializers import MonitorReportSerializer

ALL = "all"
VIEW_PERMISSION = "monitoring.view_minutestat"


class IsPartnerOrMonitorViewer(BasePermission):
    message = "You do not have permission to view the operational monitor."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, PartnerPrincipal):
            return True
        return bool(user and user.is_authenticated and user.has_perm(VIEW_PERMISSION))


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
        # Staff looking at every partner also see the learned score's drift (no partner).
        shown = {p.pk for p in partners} | ({None} if label == ALL else set())
        document["open_alerts"] = [
            _alert(alert)
            for alert in selectors.operational_alerts_open()
            if alert.partner_id in shown
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
        "partner": alert.partner.slug if alert.partner else None,
        "metric": alert.metric,
        "severity": alert.severity,
        "persistence_minutes": alert.persistence_minutes,
        "started_minute": iso(alert.started_minute),
        "last_minute": iso(alert.last_minute),
    }
