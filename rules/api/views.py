"""The staff rules API: read-only; rules are changed in the admin, where four eyes apply."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets

from rules.filtersets import RuleFilterSet
from rules.models import Rule
from sentinel.api.mixins import ListModelMixin
from sentinel.api.pagination import CursorPagination
from transactions.api.serializers import ErrorSerializer

from .serializers import RuleSerializer


class CanViewRules(permissions.BasePermission):
    message = "You do not have permission to view rules."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and getattr(user, "is_staff", False) and user.has_perm("rules.view_rule"))


class ByCode(CursorPagination):
    ordering = ("code",)


ERROR = OpenApiResponse(ErrorSerializer, description="See docs/api.md § Errors.")
ERRORS = {code: ERROR for code in (400, 401, 403, 404)}


@extend_schema_view(
    list=extend_schema(responses={200: RuleSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: RuleSerializer, **ERRORS}),
)
class RuleViewSet(ListModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = RuleSerializer
    filterset_class = RuleFilterSet
    pagination_class = ByCode
    permission_classes = [CanViewRules]
    lookup_field = "code"

    def get_queryset(self):
        return Rule.objects.select_related("version__author").prefetch_related("version__partners")
