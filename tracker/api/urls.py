from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.api.views import AuthTokenApi

from .views import ApiNotFoundApi, ApiRootApi

urlpatterns = [
    path("", ApiRootApi.as_view(), name="api-root"),
    path("auth/token/", AuthTokenApi.as_view(), name="api-auth-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("escalation.api.urls")),
    path("", include("org.api.urls")),
    path("", include("incidents.api.urls")),
    path("sla/", include("sla.api.urls")),
    path("", include("boards.api.urls")),
    path("", include("sprints.api.urls")),
    path("", include("changes.api.urls")),
    path("", include("dashboards.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("mail.api.urls")),
    path("", include("problems.api.urls")),
    path("", include("knowledge.api.urls")),
    path("", include("search.api.urls")),
    path("portal/", include("portal.api.urls")),
    path("", include("desk.api.urls")),
    # Anything else under /api/v1/ is a JSON 404, not the site's HTML page.
    re_path(r"^[\s\S]*$", ApiNotFoundApi.as_view(), name="api-not-found"),
]
