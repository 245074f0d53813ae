from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("party/", views.party_screen, name="party"),
    path("entries/<int:entry_id>/true-match/", views.true_match, name="true-match"),
    path("entries/<int:entry_id>/false-positive/", views.false_positive_ask, name="ask"),
    path(
        "false-positives/<int:decision_id>/approve/", views.false_positive_approve, name="approve"
    ),
]
