"""Websocket routes of every app, gathered in one place for sentinel.asgi."""

from alerts.routing import websocket_urlpatterns as alert_routes

websocket_urlpatterns: list = [*alert_routes]
