"""Staff sessions: idle and absolute timeouts, and the second factor for the roles that need it."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from sentinel.api.exceptions import error_body

from .selectors import otp_required_for, user_has_device
from .signals import SESSION_SEEN, SESSION_STARTED

# Writing the session on every request would cost a database write per page; once a minute
# is precise enough for a 30-minute idle limit.
SEEN_RESOLUTION_SECONDS = 60


class StaffAccessMiddleware:
    """After authentication and django-otp's OTPMiddleware, for session users only.

    - A session idle for SENTINEL_SESSION_IDLE_SECONDS, or older than
      SENTINEL_SESSION_MAX_SECONDS, is logged out (pages: back to the login page; API: 401).
    - A user who must use a second factor (sentinel.accounts.selectors.otp_required_for) and
      has not verified it in this session reaches only the login, verification, enrolment and
      logout pages: pages redirect to verification (or enrolment, with no device yet), the API
      answers 403.

    Requests without a session cookie (partner API calls, scrapers) pass untouched and, under
    ASGI, without a thread hop.
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
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            refusal = self.refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    async def __acall__(self, request):
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            refusal = await sync_to_async(self.refusal)(request)
            if refusal is not None:
                return refusal
        return await self.get_response(request)

    def refusal(self, request) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated:
            return None
        if self._expired(request):
            logout(request)
            if _is_api(request):
                body = error_body("session_expired", "Your session expired; log in again.")
                return JsonResponse(body, status=401)
            messages.info(request, "Your session expired; please log in again.")
            return _redirect("login", request)
        # A verified session costs one query (its device); an unverified one, one query too.
        if _exempt(request.path) or user.is_verified() or not otp_required_for(user):
            return None
        if _is_api(request):
            body = error_body(
                "otp_required",
                "Your role requires a verified second factor: verify your one-time code "
                "in the browser first.",
            )
            return JsonResponse(body, status=403)
        return _redirect("otp-verify" if user_has_device(user) else "otp-enrol", request)

    @staticmethod
    def _expired(request) -> bool:
        session, now = request.session, int(time.time())
        started = session.setdefault(SESSION_STARTED, now)
        seen = session.setdefault(SESSION_SEEN, now)
        if now - seen > settings.SENTINEL_SESSION_IDLE_SECONDS:
            return True
        if now - started > settings.SENTINEL_SESSION_MAX_SECONDS:
            return True
        if now - seen >= SEEN_RESOLUTION_SECONDS:
            session[SESSION_SEEN] = now
        return False


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _exempt(path: str) -> bool:
    allowed = (
        reverse("login"),
        reverse("logout"),
        reverse("otp-verify"),
        reverse("otp-enrol"),
        reverse("admin:logout"),
        settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}",
    )
    return any(path.startswith(prefix) for prefix in allowed)


def _redirect(name: str, request) -> HttpResponseRedirect:
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse(name)}?{query}")
