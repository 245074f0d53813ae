"""Every API error as {"error": {"code", "message", "fields"}}, with dotted field paths."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "authentication_failed",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "payload_too_large",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "rate_limited",
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the stored state."
    default_code = "conflict"


class InvalidInput(exceptions.APIException):
    """Bad input whose problems are already keyed by dotted field path."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, fields: dict[str, list[str]], message: str | None = None):
        self.fields = fields
        count = len(fields)
        super().__init__(
            message or f"The request has {count} invalid field{'s' if count != 1 else ''}."
        )


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    error: dict = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def flatten(detail: object, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"a.b.0.c": [messages]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list) and detail and all(isinstance(item, str) for item in detail):
        return {prefix or "non_field_errors": [str(item) for item in detail]}
    if isinstance(detail, list):
        out = {}
        for index, value in enumerate(detail):
            out.update(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a genuine bug: let Django answer 500 and log it

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))

    # An exception may name a more specific code (a replayed signature, JSON nested too deep).
    code = getattr(exc, "error_code", None) or _CODES.get(exc.status_code, "error")
    if isinstance(exc, InvalidInput):
        body = error_body(code, str(exc.detail), exc.fields)
    elif isinstance(exc, exceptions.ValidationError):
        fields = flatten(exc.detail)
        body = error_body(code, "The request has invalid fields.", fields)
    elif isinstance(exc, exceptions.ParseError):
        body = error_body(getattr(exc, "error_code", "malformed_json"), str(exc.detail))
    elif isinstance(exc, exceptions.NotAuthenticated):
        body = error_body("not_authenticated", str(exc.detail))
    elif isinstance(exc, exceptions.Throttled):
        body = error_body(code, "Rate limit exceeded; retry after the number of seconds given.")
    else:
        body = error_body(code, str(exc.detail))

    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)
