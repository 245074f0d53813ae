"""The staff alert API: read alerts; acknowledge and dismiss them through alerts.services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from alerts import selectors, services
from alerts.filtersets import AlertFilterSet, SnoozeFilterSet
from sentinel.api.exceptions import Conflict
from sentinel.api.mixins import ListModelMixin
from sentinel.api.pagination import CursorPagination
from transactions.api.serializers import ErrorSerializer

from .serializers import (
    AlertDetailSerializer,
    AlertDismissSerializer,
    AlertSerializer,
    SnoozeCreateSerializer,
    SnoozeForSerializer,
    SnoozeLiftSerializer,
    SnoozeSerializer,
)


class StaffActionPermission(permissions.BasePermission):
    """Staff only (partners never); each view action needs the permission its view names in
    ``action_permissions`` (``"*"`` for the others)."""

    message = "You do not have permission to do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        needed = view.action_permissions.get(view.action, view.action_permissions["*"])
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
    snooze=extend_schema(
        request=SnoozeForSerializer,
        responses={201: SnoozeSerializer, **ACTION_ERRORS},
        summary="Snooze the alert's rule on its subject (409 if it is already snoozed)",
    ),
)
class AlertViewSet(ListModelMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = AlertFilterSet
    pagination_class = ByPriority
    permission_classes = [StaffActionPermission]
    action_permissions = {
        "*": "alerts.view_alert",
        "acknowledge": "alerts.change_alert",
        "dismiss": "alerts.change_alert",
        "snooze": "alerts.add_snooze",
    }
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        if self.action == "list":
            return selectors.alerts_as_messages()
        return selectors.alerts_detail()

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None and self.action == "list":
            selectors.alerts_with_latest_links(page)
        return page

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

    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        alert = self.get_object()
        data = SnoozeForSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        snooze = _call(
            services.snooze_create,
            actor=request.user,
            rule=alert.rule,
            partner=alert.partner,
            account_external_id=alert.account_external_id,
            **data.validated_data,
        )
        body = SnoozeSerializer(selectors.snoozes_list().get(pk=snooze.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    def _act(self, service, **arguments) -> Response:
        alert = _call(service, actor=self.request.user, **arguments)
        return Response(AlertDetailSerializer(self.get_queryset().get(pk=alert.pk)).data)


def _call(service, **arguments):
    """Run a service; its state errors answer 409, its validation errors 400."""
    try:
        return service(**arguments)
    except (services.AlertStateError, services.SnoozeStateError) as error:
        raise Conflict(error.messages[0]) from error
    except DjangoValidationError as error:
        raise ValidationError(
            error.message_dict if hasattr(error, "error_dict") else error.messages
        ) from error


@extend_schema_view(
    list=extend_schema(responses={200: SnoozeSerializer(many=True), **READ_ERRORS}),
    retrieve=extend_schema(responses={200: SnoozeSerializer, **READ_ERRORS}),
    create=extend_schema(
        request=SnoozeCreateSerializer,
        responses={201: SnoozeSerializer, **ACTION_ERRORS},
        summary="Snooze one rule for one subject (409 if it is already snoozed)",
    ),
    lift=extend_schema(
        request=SnoozeLiftSerializer,
        responses={200: SnoozeSerializer, **ACTION_ERRORS},
        summary="Lift a snooze early, or withdraw one awaiting approval (409 if it is over)",
    ),
    approve=extend_schema(
        request=None,
        responses={200: SnoozeSerializer, **ACTION_ERRORS},
        summary="Approve a snooze of over 30 days (not your own; 409 if it awaits nothing)",
    ),
)
class SnoozeViewSet(ListModelMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Rules silenced for one subject for a bounded time; never deleted, lifted early instead."""

    filterset_class = SnoozeFilterSet
    permission_classes = [StaffActionPermission]
    action_permissions = {
        "*": "alerts.view_snooze",
        "create": "alerts.add_snooze",
        "lift": "alerts.change_snooze",
        "approve": "alerts.approve_snooze",
    }
    serializer_class = SnoozeSerializer
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return selectors.snoozes_list()

    def create(self, request):
        data = SnoozeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        snooze = _call(
            services.snooze_create,
            actor=request.user,
            account_external_id=fields.pop("account_id"),
            **fields,
        )
        body = SnoozeSerializer(self.get_queryset().get(pk=snooze.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def lift(self, request, pk=None):
        snooze = self.get_object()
        data = SnoozeLiftSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _call(services.snooze_lift, actor=request.user, snooze=snooze, **data.validated_data)
        return Response(SnoozeSerializer(self.get_queryset().get(pk=snooze.pk)).data)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        snooze = self.get_object()
        _call(services.snooze_approve, actor=request.user, snooze=snooze)
        return Response(SnoozeSerializer(self.get_queryset().get(pk=snooze.pk)).data)
