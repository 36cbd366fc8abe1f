from django.urls import path

from . import views

app_name = "escalation"
urlpatterns = [
    path("<str:key>/escalate-to-development/", views.escalate, name="escalate"),
    path("<str:key>/escalate-to-development/preview/", views.preview, name="preview"),
    path("<str:key>/development/", views.panel, name="panel"),
]
