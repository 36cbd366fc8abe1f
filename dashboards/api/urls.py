from django.urls import path

from .views import SLAMetricsApi

urlpatterns = [path("metrics/sla/", SLAMetricsApi.as_view(), name="metrics-sla")]
