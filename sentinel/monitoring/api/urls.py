from django.urls import path

from .views import MonitorView

urlpatterns = [
    path("monitor", MonitorView.as_view(), name="api-monitor"),
]
