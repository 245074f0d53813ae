"""Refuse oversized request bodies before anything reads them."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse

from sentinel.api.exceptions import error_body


class BodySizeLimitMiddleware:
    """413 for bodies over the limit of the longest matching path prefix (SENTINEL_BODY_LIMITS)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.limits = sorted(settings.SENTINEL_BODY_LIMITS.items(), key=lambda item: -len(item[0]))

    def __call__(self, request):
        limit = self._limit_for(request.path)
        if limit is not None and self._body_length(request) > limit:
            return JsonResponse(
                error_body(
                    "payload_too_large",
                    f"The request body exceeds the {limit // (1024 * 1024)} MiB limit "
                    f"of {request.path}.",
                ),
                status=413,
            )
        return self.get_response(request)

    def _limit_for(self, path: str) -> int | None:
        for prefix, limit in self.limits:
            if path.startswith(prefix):
                return limit
        return None

    @staticmethod
    def _body_length(request) -> int:
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                return int(declared)
            except ValueError:
                return 0
        return 0
