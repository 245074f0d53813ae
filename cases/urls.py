from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.case_queue, name="queue"),
    path("claim-next/", views.case_claim_next, name="claim-next"),
    path("bulk-assign/", views.case_bulk_assign, name="bulk-assign"),
    path("from-alerts/", views.cases_from_alerts, name="from-alerts"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/row/", views.case_row, name="row"),
    path("<int:pk>/money-flow/", views.case_money_flow_hop, name="money-flow"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment_download, name="download"),
    path("<int:pk>/sar/<int:file_id>/", views.sar_download, name="sar-download"),
    path("<int:pk>/<slug:name>/", views.case_action, name="action"),
]

# /accounts/<partner id>/<account id>/: an account's page (cases.views.account_detail).
account_urlpatterns = [
    path("<int:partner_id>/<path:external_id>/", views.account_detail, name="detail"),
]
