from django.urls import path

from .audit import AuditLogApi
from .views import SLAMetricsApi

urlpatterns = [
    path("metrics/sla/", SLAMetricsApi.as_view(), name="metrics-sla"),
    path("audit-log/", AuditLogApi.as_view(), name="api-audit-log"),
]
