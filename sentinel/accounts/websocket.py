"""The same session rules for websockets: a session that is timed out, or has not passed a
second factor its role requires, connects as anonymous (the consumer closes it with 4401)."""

from __future__ import annotations

import time

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from .selectors import otp_required_for
from .signals import SESSION_SEEN, SESSION_STARTED


def session_refused(session, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    now = int(time.time())
    seen, started = session.get(SESSION_SEEN, now), session.get(SESSION_STARTED, now)
    if now - seen > settings.SENTINEL_SESSION_IDLE_SECONDS:
        return True
    if now - started > settings.SENTINEL_SESSION_MAX_SECONDS:
        return True
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    if device is not None and device.user_id == user.pk and device.confirmed:
        return False
    return otp_required_for(user)


class StaffSessionMiddleware(BaseMiddleware):
    """Inside channels' AuthMiddlewareStack, which has set scope["session"] and scope["user"]."""

    async def __call__(self, scope, receive, send):
        if await database_sync_to_async(session_refused)(scope["session"], scope.get("user")):
            scope = {**scope, "user": AnonymousUser()}
        return await super().__call__(scope, receive, send)
