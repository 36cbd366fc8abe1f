from django.urls import path

from . import views

app_name = "knowledge"
urlpatterns = [
    path("", views.article_list_view, name="list"),
    path("new/", views.article_create_view, name="create"),
    path("preview/", views.preview, name="preview"),
    path("picker/", views.picker, name="picker"),
    path("<str:key>/", views.article_detail, name="detail"),
    path("<str:key>/edit/", views.article_edit, name="edit"),
    path("<str:key>/history/", views.article_history, name="history"),
    path("<str:key>/history/<int:number>/", views.article_revision, name="revision"),
    path("<str:key>/archive/", views.article_archive_view, name="archive"),
    path("<str:key>/restore/", views.article_restore_view, name="restore"),
]
