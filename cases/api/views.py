"""The staff case API: read cases; act on them through the same services and permission map
as the pages (cases.permissions). Partners' signed requests never get in."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from cases import downloads, selectors, services
from cases.filtersets import CaseFilterSet
from cases.permissions import Action, can
from sentinel.api.exceptions import Conflict, InvalidInput
from sentinel.api.mixins import ListModelMixin
from sentinel.api.pagination import CursorPagination
from transactions.api.serializers import ErrorSerializer

from . import serializers as s


class CanSeeCases(permissions.BasePermission):
    """Staff who may see cases; each action's own permission is checked by its service."""

    message = "You do not have permission to see cases."

    def has_permission(self, request, view) -> bool:
        return can(request.user, Action.VIEW)


PAGE_NUMBERS_GONE = "Cases are paged by cursor: follow the next and previous links."


class CasePages(CursorPagination):
    """Keyset pages on the queryset's own ordering, so the FilterSet's ``ordering`` (or the
    queue's default: highest priority, then earliest due) is honoured, with the id as
    tie-breaker. ``count`` stays, as clients of the numbered pages read it; ``page`` numbers
    answer 400 rather than a silent first page a client would loop on."""

    ordering = None
    with_count = True

    def paginate_queryset(self, queryset, request, view=None):
        if "page" in request.query_params:
            raise InvalidInput({"page": [PAGE_NUMBERS_GONE]}, message=PAGE_NUMBERS_GONE)
        return super().paginate_queryset(queryset, request, view)


ERROR = OpenApiResponse(ErrorSerializer, description="See docs/api.md § Errors.")
READ_ERRORS = {code: ERROR for code in (400, 401, 403, 404)}
ACTION_ERRORS = {code: ERROR for code in (400, 401, 403, 404, 409, 415)}


def _act(request_serializer, summary: str, response=s.CaseDetailSerializer):
    return extend_schema(
        request=request_serializer, responses={200: response, **ACTION_ERRORS}, summary=summary
    )


@extend_schema_view(
    list=extend_schema(responses={200: s.CaseSerializer(many=True), **READ_ERRORS}),
    retrieve=extend_schema(responses={200: s.CaseDetailSerializer, **READ_ERRORS}),
    claim=_act(s.VersionInput, "Claim the case and start investigating it"),
    start=_act(s.VersionInput, "Start investigating a case assigned to you"),
    assign=_act(s.AssignInput, "Assign the case (to another person: senior investigators)"),
    team=_act(s.TeamInput, "Route the case to a team (senior investigators)"),
    notes=_act(s.NoteInput, "Add a markdown note"),
    attachments=_act(s.AttachmentInput, "Attach an evidence file (multipart)"),
    tags=_act(s.TagInput, "Add and remove tags"),
    propose_closure=_act(
        s.ProposeClosureInput, "Close the case, or propose to (SAR or critical: four eyes)"
    ),
    approve=_act(s.ApproveInput, "Approve a proposed closure (another senior investigator)"),
    send_back=_act(s.SendBackInput, "Send a proposed closure back, with a comment"),
    claim_next=extend_schema(
        request=None,
        responses={200: s.CaseDetailSerializer, 204: None, **ACTION_ERRORS},
        summary="Claim the highest-priority unassigned open case (204: none waiting)",
    ),
    bulk_assign=_act(s.BulkAssignInput, "Assign several cases", response=s.BulkAssignOutput),
    download=extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **READ_ERRORS},
        summary="Download an attachment",
    ),
    sar=extend_schema(
        responses={200: s.SarSerializer, **READ_ERRORS},
        summary="The case's suspicious-activity report and its exported files (404: none yet)",
    ),
    sar_draft=_act(
        None, "Draft the suspicious-activity report from the case", response=s.SarSerializer
    ),
    sar_edit=_act(
        s.SarEditInput, "Save the report's narrative and action", response=s.SarSerializer
    ),
    sar_export=_act(
        None, "Validate and export the report as goAML XML, JSON and PDF", response=s.SarSerializer
    ),
    sar_download=extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **READ_ERRORS},
        summary="Download an exported report file",
    ),
)
class CaseViewSet(ListModelMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = CaseFilterSet
    pagination_class = CasePages
    permission_classes = [CanSeeCases]
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return selectors.cases_queue() if self.action == "list" else selectors.case_detail()

    def get_serializer_class(self):
        return s.CaseSerializer if self.action == "list" else s.CaseDetailSerializer

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return selectors.cases_with_alert_summary(page) if page is not None else None

    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        return self._run(s.VersionInput, services.case_claim)

    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._run(s.VersionInput, services.case_start)

    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        def call(*, case, actor, assignee, **rest):
            return services.case_assign(case=case, actor=actor, assignee=_user(assignee), **rest)

        return self._run(s.AssignInput, call)

    @action(detail=True, methods=["post"])
    def team(self, request, pk=None):
        return self._run(s.TeamInput, services.case_set_team)

    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        return self._run(s.NoteInput, services.case_add_note)

    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request, pk=None):
        def call(*, case, actor, file, **rest):
            return services.case_add_attachment(case=case, actor=actor, upload=file)

        return self._run(s.AttachmentInput, call, strict=False)

    @action(detail=True, methods=["post"])
    def tags(self, request, pk=None):
        return self._run(s.TagInput, services.case_tag)

    @action(detail=True, methods=["post"], url_path="propose-closure")
    def propose_closure(self, request, pk=None):
        return self._run(s.ProposeClosureInput, services.case_propose_closure)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._run(s.ApproveInput, services.case_approve_closure)

    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, pk=None):
        return self._run(s.SendBackInput, services.case_send_back)

    @action(detail=False, methods=["post"], url_path="claim-next")
    def claim_next(self, request):
        case = _domain(lambda: services.case_claim_next(actor=request.user))
        if case is None:
            return Response(status=204)
        return Response(s.CaseDetailSerializer(selectors.case_detail().get(pk=case.pk)).data)

    @action(detail=False, methods=["post"], url_path="bulk-assign")
    def bulk_assign(self, request):
        data = _valid(s.BulkAssignInput, request.data)
        result = _domain(
            lambda: services.case_bulk_assign(
                case_ids=data["case_ids"], assignee=_user(data["assignee"]), actor=request.user
            )
        )
        return Response(s.BulkAssignOutput(result).data)

    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]{1,18})",
    )
    def download(self, request, pk=None, attachment_id=None):
        return downloads.attachment_download(case_id=pk, attachment_id=attachment_id)

    @action(detail=True, methods=["get"])
    def sar(self, request, pk=None):
        return self._sar(self.get_object())

    @action(detail=True, methods=["post"], url_path="sar/draft")
    def sar_draft(self, request, pk=None):
        case = self.get_object()
        _valid(s.StrictInput, request.data)
        _domain(lambda: services.sar_draft(case=case, actor=request.user))
        return self._sar(case)

    @action(detail=True, methods=["post"], url_path="sar/edit")
    def sar_edit(self, request, pk=None):
        case = self.get_object()
        data = _valid(s.SarEditInput, request.data)
        version = data.pop("version", None)
        _domain(
            lambda: services.sar_edit(
                case=case, actor=request.user, expected_version=version, **data
            )
        )
        return self._sar(case)

    @action(detail=True, methods=["post"], url_path="sar/export")
    def sar_export(self, request, pk=None):
        case = self.get_object()
        _valid(s.StrictInput, request.data)
        _domain(lambda: services.sar_export(case=case, actor=request.user))
        return self._sar(case)

    @action(detail=True, methods=["get"], url_path=r"sar/files/(?P<file_id>[0-9]{1,18})")
    def sar_download(self, request, pk=None, file_id=None):
        return downloads.sar_file_download(case_id=pk, file_id=file_id)

    def _sar(self, case) -> Response:
        sar = selectors.case_sar(case)
        if sar is None:
            raise Http404("This case has no suspicious-activity report yet.")
        return Response(s.SarSerializer(sar).data)

    def _run(self, input_class, service: Callable, *, strict: bool = True) -> Response:
        case = self.get_object()
        data = _valid(input_class, self.request.data)
        if "version" in data:
            data["expected_version"] = data.pop("version")
        _domain(lambda: service(case=case, actor=self.request.user, **data))
        return Response(s.CaseDetailSerializer(selectors.case_detail().get(pk=case.pk)).data)


def _valid(input_class, payload) -> dict:
    serializer = input_class(data=payload)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _user(username: str | None):
    if username is None:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise exceptions.ValidationError({"assignee": [f"No user {username!r}."]})
    return user


def _domain(call: Callable):
    """Run a service; its domain errors become the API's 409, 403 and 400."""
    try:
        return call()
    except services.CaseStateError as error:
        raise Conflict(error.message) from error
    except services.CasePermissionError as error:
        raise exceptions.PermissionDenied(error.message) from error
    except DjangoValidationError as error:
        raise exceptions.ValidationError(
            error.message_dict if hasattr(error, "error_dict") else error.messages
        ) from error
