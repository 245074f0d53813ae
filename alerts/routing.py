from django.urls import path

from .consumers import LiveFeedConsumer

websocket_urlpatterns = [
    path("ws/alerts/", LiveFeedConsumer.as_asgi()),
]
