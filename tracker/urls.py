from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("tracker.api.urls")),
    path("incidents/", include("escalation.urls")),
    path("incidents/", include("incidents.urls")),
    path("sla/", include("sla.urls")),
    path("boards/", include("boards.urls")),
    path("sprints/", include("sprints.urls")),
    path("changes/", include("changes.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("notifications/", include("notifications.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("audit/", include("dashboards.audit_urls")),
    path("customers/", include("customers.urls")),
    path("mail/", include("mail.urls")),
    path("problems/", include("problems.urls")),
    path("knowledge/", include("knowledge.urls")),
    path("search/", include("search.urls")),
    path("portal/", include("portal.urls")),
    path("desk/", include("desk.urls")),
]

handler500 = "tracker.views.server_error"
