from rest_framework.routers import SimpleRouter

from .attachments import urlpatterns as attachment_urls
from .views import IncidentViewSet

router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incident")

urlpatterns = [*router.urls, *attachment_urls]
