"""The staff alert API: read alerts; acknowledge and dismiss them through alerts.services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from alerts import selectors, services
from alerts.filtersets import AlertFilterSet
from sentinel.api.exceptions import Conflict
from sentinel.api.pagination import CursorPagination
from transactions.api.serializers import ErrorSerializer

from .serializers import AlertDetailSerializer, AlertDismissSerializer, AlertSerializer

VIEW, CHANGE = "alerts.view_alert", "alerts.change_alert"


class CanUseAlerts(permissions.BasePermission):
    """Staff with alerts.view_alert read; alerts.change_alert acts. Partners never."""

    message = "You do not have permission to see or change alerts."

    def has_permission(self, request, view) -> bool:
        user = request.user
        needed = CHANGE if view.action in ("acknowledge", "dismiss") else VIEW
        return bool(user and getattr(user, "is_staff", False) and user.has_perm(needed))


class ByPriority(CursorPagination):
    ordering = ("-priority", "-last_seen_at", "-id")


ERROR = OpenApiResponse(ErrorSerializer, description="See docs/api.md § Errors.")
READ_ERRORS = {code: ERROR for code in (400, 401, 403, 404)}
ACTION_ERRORS = {code: ERROR for code in (400, 401, 403, 404, 409, 415)}


@extend_schema_view(
    list=extend_schema(responses={200: AlertSerializer(many=True), **READ_ERRORS}),
    retrieve=extend_schema(responses={200: AlertDetailSerializer, **READ_ERRORS}),
    acknowledge=extend_schema(
        request=None,
        responses={200: AlertDetailSerializer, **ACTION_ERRORS},
        summary="Acknowledge a new alert (409 if it is not new)",
    ),
    dismiss=extend_schema(
        request=AlertDismissSerializer,
        responses={200: AlertDetailSerializer, **ACTION_ERRORS},
        summary="Dismiss a new or acknowledged alert with a reason (409 if already closed)",
    ),
)
class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_class = AlertFilterSet
    pagination_class = ByPriority
    permission_classes = [CanUseAlerts]
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return selectors.alerts_list() if self.action == "list" else selectors.alerts_detail()

    def get_serializer_class(self):
        return AlertSerializer if self.action == "list" else AlertDetailSerializer

    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._act(services.alert_acknowledge, alert=self.get_object())

    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        alert = self.get_object()
        data = AlertDismissSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._act(services.alert_dismiss, alert=alert, reason=data.validated_data["reason"])

    def _act(self, service, **arguments) -> Response:
        try:
            alert = service(actor=self.request.user, **arguments)
        except services.AlertStateError as error:
            raise Conflict(error.messages[0]) from error
        except DjangoValidationError as error:
            raise ValidationError(
                error.message_dict if hasattr(error, "error_dict") else error.messages
            ) from error
        return Response(AlertDetailSerializer(self.get_queryset().get(pk=alert.pk)).data)
