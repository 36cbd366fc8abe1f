from rest_framework.routers import SimpleRouter

from .views import ChangeRequestViewSet

router = SimpleRouter()
router.register("change-requests", ChangeRequestViewSet, basename="change-request")
urlpatterns = router.urls
