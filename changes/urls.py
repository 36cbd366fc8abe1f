from django.urls import path

from . import views

app_name = "changes"
urlpatterns = [
    path("", views.change_list, name="list"),
    path("new/", views.change_create, name="create"),
    path("triage/", views.triage, name="triage"),
    path("<str:key>/", views.change_detail, name="detail"),
    path("<str:key>/decide/", views.decide, name="decide"),
    path("<str:key>/triage-preview/", views.triage_preview, name="triage_preview"),
]
