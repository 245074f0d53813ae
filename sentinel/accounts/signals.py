"""Each login starts the session clocks read by StaffAccessMiddleware."""

from __future__ import annotations

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

SESSION_STARTED = "sentinel_session_started"
SESSION_SEEN = "sentinel_session_seen"


@receiver(user_logged_in, dispatch_uid="sentinel-session-clocks")
def start_session_clocks(sender, request, user, **kwargs) -> None:
    now = int(time.time())
    request.session[SESSION_STARTED] = now
    request.session[SESSION_SEEN] = now
