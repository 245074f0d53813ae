"""Websocket routes of every app, gathered in one place for sentinel.asgi."""

# The apps add their consumers here as they gain live features (alerts, cases).
websocket_urlpatterns: list = []
