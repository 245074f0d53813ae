from rest_framework.routers import SimpleRouter

from .views import AlertViewSet, SnoozeViewSet

router = SimpleRouter()
router.register("alerts", AlertViewSet, basename="alert")
router.register("snoozes", SnoozeViewSet, basename="snooze")

urlpatterns = router.urls
