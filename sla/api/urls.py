from rest_framework.routers import SimpleRouter

from .views import BusinessCalendarViewSet, SLAPolicyViewSet

router = SimpleRouter()
router.register("calendars", BusinessCalendarViewSet, basename="sla-calendar")
router.register("policies", SLAPolicyViewSet, basename="sla-policy")

urlpatterns = router.urls
