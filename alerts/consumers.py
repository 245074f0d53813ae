"""``WS /ws/alerts/``: authenticate, join the staff live feed, relay; nothing else."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer

from sentinel import metrics
from sentinel.live import live_feed_group

from . import live

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_BIG = 1009  # RFC 6455: message too big
MAX_FRAME_BYTES = 4096  # a resume message is a few dozen bytes
VIEW_PERMISSION = "alerts.view_alert"


class LiveFeedConsumer(JsonWebsocketConsumer):
    """The staff live feed: staff with the alert permission receive every frame broadcast to
    it (``sentinel.live.broadcast``): new and changed alerts, case changes and operational
    alerts of the monitor, relayed as they are.

    A reconnecting browser passes the last alert id it saw (``?after=<id>``, or a
    ``{"type": "resume", "after": <id>}`` message) and first receives what it missed.
    """

    def connect(self) -> None:
        user = self.scope.get("user")
        # Accept, then close: a code is only delivered on an open connection.
        self.accept()
        if user is None or not user.is_authenticated:
            self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not (user.is_staff and user.has_perm(VIEW_PERMISSION)):
            self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = live_feed_group()
        metrics.websocket_opened()  # disconnect() takes it back whenever a group is set
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        after = _alert_id(_query(self.scope).get("after"))
        if after is not None:
            self._resume(after)

    def disconnect(self, code: int) -> None:
        group = getattr(self, "group", None)
        if group:
            metrics.websocket_closed()
            async_to_sync(self.channel_layer.group_discard)(group, self.channel_name)

    def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        """Only the resume message is understood; anything else gets an error frame and is
        otherwise ignored, and a frame over MAX_FRAME_BYTES closes the connection (1009)."""
        size = len(bytes_data) if bytes_data is not None else len((text_data or "").encode())
        if size > MAX_FRAME_BYTES:
            self.close(code=CLOSE_TOO_BIG)
            return
        if bytes_data is not None:
            self._refuse("binary_frame", "Send JSON text frames.")
            return
        try:
            content = json.loads(text_data or "")
        except ValueError:
            self._refuse("invalid_json", "The frame is not JSON.")
            return
        if not (isinstance(content, dict) and content.get("type") == "resume"):
            self._refuse(
                "unsupported_message",
                'The only message understood is {"type": "resume", "after": <alert id>}.',
            )
            return
        after = _alert_id(content.get("after"))
        if after is None:
            self._refuse("invalid_resume", '"after" must be a non-negative alert id.')
            return
        self._resume(after)

    def _refuse(self, code: str, message: str) -> None:
        self.send_json({"type": "error", "error": {"code": code, "message": message}})

    def frames_message(self, event: dict) -> None:
        """Frames from ``sentinel.live.broadcast`` (alerts, cases, the monitor), relayed as
        they are."""
        for frame in event["frames"]:
            self.send_json(frame)

    def _resume(self, after: int) -> None:
        for alert in live.alerts_missed(after_id=after):
            self.send_json({"type": live.CREATED, "alert": alert})


def _query(scope: dict) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def _alert_id(value: object) -> int | None:
    """A non-negative alert id, or None for anything else (ignored, never an error)."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 10**18 else None
