"""Refuse oversized request bodies before anything reads them."""

from __future__ import annotations

import functools

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import JsonResponse

from sentinel.api.exceptions import error_body


def body_limit_for(path: str) -> int | None:
    """The body limit of the longest SENTINEL_BODY_LIMITS prefix of ``path``, or None.

    Used twice: by the ASGI bridge while it reads a body (sentinel.asgi), and by the middleware
    below for servers that hand Django a body already read (WSGI, the test client).
    """
    for prefix, limit in _sorted_limits(tuple(settings.SENTINEL_BODY_LIMITS.items())):
        if path.startswith(prefix):
            return limit
    return None


@functools.cache
def _sorted_limits(limits: tuple[tuple[str, int], ...]) -> list[tuple[str, int]]:
    return sorted(limits, key=lambda item: -len(item[0]))


class BodySizeLimitMiddleware:
    """413 for bodies over the limit of the longest matching path prefix (SENTINEL_BODY_LIMITS).

    Sync and async capable, so under ASGI it costs no thread hop.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self.refusal(request) or self.get_response(request)

    async def __acall__(self, request):
        return self.refusal(request) or await self.get_response(request)

    def refusal(self, request) -> JsonResponse | None:
        limit = body_limit_for(request.path)
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

    @staticmethod
    def _declared_length(request) -> int:
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0
