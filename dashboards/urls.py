from django.urls import path

from . import views

app_name = "dashboards"
urlpatterns = [
    path("sla/", views.sla_dashboard, name="sla"),
    path("sla/at-risk/", views.sla_at_risk, name="sla_at_risk"),
    path("sla/incidents/", views.drilldown, name="drilldown"),
    path("delivery/", views.delivery, name="delivery"),
    path("export/queue.csv", views.export_queue, name="export_queue"),
    path("export/<slug:table>.csv", views.export, name="export"),
]
