"""Refuse oversized request bodies before anything reads them."""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import JsonResponse

from sentinel.api.exceptions import error_body


class BodySizeLimitMiddleware:
    """413 for bodies over the limit of the longest matching path prefix (SENTINEL_BODY_LIMITS).

    Sync and async capable, so under ASGI it costs no thread hop.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.limits = sorted(settings.SENTINEL_BODY_LIMITS.items(), key=lambda item: -len(item[0]))
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self.refusal(request) or self.get_response(request)

    async def __acall__(self, request):
        return self.refusal(request) or await self.get_response(request)

    def refusal(self, request) -> JsonResponse | None:
        limit = self._limit_for(request.path)
        if limit is None or self._declared_length(request) <= limit:
            return None
        return JsonResponse(
            error_body(
                "payload_too_large",
                f"The request body exceeds the {limit // (1024 * 1024)} MiB limit of "
                f"{request.path}.",
            ),
            status=413,
        )

    def _limit_for(self, path: str) -> int | None:
        for prefix, limit in self.limits:
            if path.startswith(prefix):
                return limit
        return None

    @staticmethod
    def _declared_length(request) -> int:
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0
