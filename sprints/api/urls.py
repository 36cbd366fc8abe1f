from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import SprintMemberApi, SprintViewSet, TeamRotationApi

router = SimpleRouter()
router.register("sprints", SprintViewSet, basename="sprint")

urlpatterns = [
    *router.urls,
    path(
        "sprints/<int:sprint_pk>/members/<int:pk>/",
        SprintMemberApi.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="sprint-member-detail",
    ),
    path(
        "teams/<int:team_pk>/rotation/",
        TeamRotationApi.as_view({"get": "retrieve", "put": "update"}),
        name="team-rotation",
    ),
]
