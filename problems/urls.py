from django.urls import path

from . import views

app_name = "problems"
urlpatterns = [
    path("", views.problem_list_view, name="list"),
    path("new/", views.problem_create_view, name="create"),
    path("report/", views.problem_report_view, name="report"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("incident/<str:incident_key>/link/", views.incident_link, name="incident_link"),
    path("<str:key>/", views.problem_detail, name="detail"),
    path("<str:key>/edit/", views.problem_edit, name="edit"),
    path("<str:key>/transition/", views.problem_transition_view, name="transition"),
    path("<str:key>/link/", views.problem_link, name="link"),
    path("<str:key>/unlink/<str:incident_key>/", views.problem_unlink, name="unlink"),
    path("<str:key>/escalate-to-development/", views.problem_escalate, name="escalate"),
    path(
        "<str:key>/escalate-to-development/preview/", views.problem_escalate_preview, name="escalate_preview"
    ),
    path("<str:key>/resolve/", views.problem_resolve, name="resolve"),
    path("<str:key>/article/", views.problem_article, name="article"),
]
