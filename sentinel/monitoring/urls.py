from django.urls import path

from . import views

urlpatterns = [
    path("", views.monitor_dashboard, name="monitor"),
    path("data", views.monitor_data, name="monitor-data"),
]
