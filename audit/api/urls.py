from django.urls import path

from . import views

urlpatterns = [
    path("audit-log/", views.AuditLogApi.as_view(), name="api-audit-log"),
]
