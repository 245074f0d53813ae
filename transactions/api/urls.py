from django.urls import path
from rest_framework.routers import SimpleRouter

from .monitor import MonitorView
from .views import TransactionViewSet

router = SimpleRouter()
router.register("transactions", TransactionViewSet, basename="transaction")

urlpatterns = [
    *router.urls,
    path("monitor", MonitorView.as_view(), name="api-monitor"),
]
