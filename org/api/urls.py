from rest_framework.routers import SimpleRouter

from .views import ContactViewSet, CustomerViewSet, ServiceViewSet, TeamViewSet

router = SimpleRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("services", ServiceViewSet, basename="service")
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")

urlpatterns = router.urls
