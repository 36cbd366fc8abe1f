from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import IncidentBulkApi, SavedViewViewSet

router = SimpleRouter()
router.register("saved-views", SavedViewViewSet, basename="saved-view")

urlpatterns = [
    path("incidents/bulk/", IncidentBulkApi.as_view(), name="incidents-bulk"),
    *router.urls,
]
