"""The partner transaction API: the pipeline's entrance. Thin views over the orchestrator
(accepting, and deciding in the request for ``?wait=true``) and the transaction reads."""

from __future__ import annotations

import functools

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from sentinel import tracing
from sentinel.api.exceptions import Conflict, InvalidInput
from sentinel.api.mixins import ListModelMixin
from sentinel.api.pagination import CursorPagination
from sentinel.timestamps import iso_utc
from transactions.api.authentication import partner_of
from transactions.api.permissions import IsPartner, IsPartnerOrTransactionViewer
from transactions.api.serializers import ErrorSerializer
from transactions.api.throttling import PartnerRateThrottle
from transactions.filtersets import TransactionFilterSet
from transactions.schemas import TransactionIn
from transactions.selectors import transaction_of_partner
from transactions.services import transaction_feedback_record

from .. import orchestrator, selectors
from .serializers import (
    BatchResultSerializer,
    FeedbackInSerializer,
    FeedbackRecordedSerializer,
    TransactionAcceptedSerializer,
    TransactionSerializer,
    feedback_payload,
)

MAX_BATCH = 1000
ERROR = OpenApiResponse(ErrorSerializer, description="See docs/api.md § Errors.")
READ_ERRORS = {code: ERROR for code in (400, 401, 403, 404, 429)}


def traced(view):
    """The ingest request as a span (sentinel.tracing): what the pipeline's batch spans link
    to. It opens once the request is authenticated (its signature checked), so it names the
    partner."""

    @functools.wraps(view)
    def traced_view(self, request, *args, **kwargs):
        def attributes() -> dict:  # only called with tracing on
            return {
                "http.request.method": request.method,
                "url.path": request.path,
                "sentinel.partner.id": partner_of(request).pk,
            }

        with tracing.request_span("sentinel.ingest", attributes):
            return view(self, request, *args, **kwargs)

    return traced_view


class NewestFirst(CursorPagination):
    ordering = ("-occurred_at", "-id")


@extend_schema_view(
    list=extend_schema(responses={200: TransactionSerializer(many=True), **READ_ERRORS}),
    retrieve=extend_schema(responses={200: TransactionSerializer, **READ_ERRORS}),
)
class TransactionViewSet(ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = TransactionSerializer
    filterset_class = TransactionFilterSet
    pagination_class = NewestFirst
    throttle_classes = [PartnerRateThrottle]
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    def get_queryset(self):
        return selectors.transactions_visible_to(
            partner=partner_of(self.request), user=self.request.user
        )

    def rate_cost(self, request) -> int:
        """Rate-limit tokens this request takes: one per transaction (PartnerRateThrottle)."""
        if self.action != "batch" or not isinstance(request.data, dict):
            return 1
        items = request.data.get("transactions")
        return len(items) if isinstance(items, list) and items else 1

    def get_permissions(self):
        if self.action in ("create", "batch", "feedback"):
            return [IsPartner()]
        return [IsPartnerOrTransactionViewer()]

    @extend_schema(
        request=TransactionIn,
        parameters=[
            OpenApiParameter(
                "wait",
                bool,
                description="Score before answering and include the decision.",
            )
        ],
        responses={
            201: TransactionAcceptedSerializer,
            200: TransactionSerializer,
            **{code: ERROR for code in (400, 401, 403, 409, 413, 415, 429)},
        },
        summary="Submit one transaction (idempotent by external_id)",
    )
    @traced
    def create(self, request):
        wait = _wait_flag(request)
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["The body must be a JSON object."]})
        partner = partner_of(request)
        decision = None
        if wait:
            result, decision = orchestrator.transaction_decide_now(
                partner=partner, payload=request.data
            )
        else:
            (result,) = orchestrator.transactions_accept(partner=partner, payloads=[request.data])
        if result.status == "invalid":
            raise InvalidInput(result.errors)
        if result.status == "conflict":
            raise Conflict(
                f"external_id {result.transaction.external_id!r} was already used with a "
                "different body."
            )
        if result.status == "duplicate":
            return Response(TransactionSerializer(result.transaction).data)
        body = {
            "id": str(result.id),
            "external_id": result.row["external_id"],
            "received_at": iso_utc(result.row["received_at"]),
            "scoring": "pending" if decision is None else "done",
        }
        if decision is not None:
            body["decision"] = decision
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=inline_serializer(
            "TransactionBatchRequest",
            {
                "transactions": serializers.ListField(
                    child=serializers.DictField(), min_length=1, max_length=MAX_BATCH
                )
            },
        ),
        responses={
            200: BatchResultSerializer,
            **{code: ERROR for code in (400, 401, 403, 413, 415, 429)},
        },
        summary="Submit up to 1,000 transactions; each item succeeds or fails on its own",
    )
    @action(detail=False, methods=["post"])
    @traced
    def batch(self, request):
        items = _batch_items(request.data)
        results = orchestrator.transactions_accept(partner=partner_of(request), payloads=items)
        counts = dict.fromkeys(("created", "duplicate", "conflict", "invalid"), 0)
        rows = []
        for index, result in enumerate(results):
            counts[result.status] += 1
            row = {"index": index, "status": result.status}
            if result.id is not None:
                row["id"] = str(result.id)
            if result.errors:
                row["errors"] = result.errors
            rows.append(row)
        return Response({"results": rows, **counts})

    @extend_schema(
        request=FeedbackInSerializer,
        responses={
            201: FeedbackRecordedSerializer,
            200: FeedbackRecordedSerializer,
            **{code: ERROR for code in (400, 401, 403, 404, 413, 415, 429)},
        },
        summary="Report what one of your transactions turned out to be (last one wins)",
        description="201 for the transaction's first outcome, 200 when it replaces one or "
        "repeats the current one (a repeat records nothing). See docs/api.md § Feedback.",
    )
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        partner = partner_of(request)
        transaction = transaction_of_partner(partner=partner, transaction_id=pk)
        if transaction is None:
            raise NotFound("No such transaction.")
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["The body must be a JSON object."]})
        given = FeedbackInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        result = transaction_feedback_record(
            transaction=transaction,
            api_key=request.user.api_key,
            outcome=given.validated_data["outcome"],
            occurred_at=given.validated_data["occurred_at"],
            reason=given.validated_data.get("reason") or "",
        )
        body = {"transaction": str(transaction.pk), **feedback_payload(result.label)}
        return Response(body, status=201 if result.created else 200)


def _wait_flag(request) -> bool:
    value = request.query_params.get("wait", "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise InvalidInput({"wait": ["Must be true or false."]})
    return value in ("true", "1")


def _batch_items(data: object) -> list:
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    unknown = sorted(set(data) - {"transactions"})
    if unknown:
        raise InvalidInput({name: ["Unknown field."] for name in unknown})
    items = data.get("transactions")
    if not isinstance(items, list):
        raise InvalidInput({"transactions": ["Required: a list of 1 to 1000 transactions."]})
    if not 1 <= len(items) <= MAX_BATCH:
        raise InvalidInput(
            {"transactions": [f"Must hold 1 to {MAX_BATCH} transactions; got {len(items)}."]}
        )
    return items
