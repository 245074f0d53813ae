from django.urls import path

from . import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_queue, name="queue"),
    path("bulk/", views.alerts_bulk, name="bulk"),
    path("views/", views.queue_view_save, name="view-save"),
    path("views/<int:pk>/delete/", views.queue_view_delete, name="view-delete"),
    path("<int:pk>/", views.alert_detail, name="detail"),
    path("<int:pk>/money-flow/", views.alert_money_flow_hop, name="money-flow"),
    path("<int:pk>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
    path("<int:pk>/dismiss/", views.alert_dismiss, name="dismiss"),
    path("<int:pk>/snooze/", views.alert_snooze, name="snooze"),
    path("snoozes/<int:pk>/lift/", views.snooze_lift, name="snooze-lift"),
    path("snoozes/<int:pk>/approve/", views.snooze_approve, name="snooze-approve"),
]
