from rest_framework.routers import SimpleRouter

from .views import DeliveryViewSet, SubscriptionViewSet

router = SimpleRouter()
router.register("webhooks/deliveries", DeliveryViewSet, basename="webhook-delivery")
router.register("webhooks", SubscriptionViewSet, basename="webhook")
urlpatterns = router.urls
