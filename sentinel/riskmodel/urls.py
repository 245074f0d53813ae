from django.urls import path

from . import views

app_name = "riskmodel"
urlpatterns = [
    path("", views.version_list, name="versions"),
    path("rollback/", views.model_roll_back, name="rollback"),
    path("v<int:number>/", views.version_detail, name="version"),
    path("v<int:number>/go-live/", views.version_request_live, name="request-live"),
    path("changes/<int:change_id>/approve/", views.change_approve, name="approve"),
    path("changes/<int:change_id>/reject/", views.change_reject, name="reject"),
    path("changes/<int:change_id>/withdraw/", views.change_withdraw, name="withdraw"),
]
