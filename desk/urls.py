from django.urls import path

from . import views

app_name = "desk"
urlpatterns = [
    path("views/", views.view_list, name="views"),
    path("views/new/", views.view_create, name="view_create"),
    path("views/<int:pk>/", views.view_edit, name="view_edit"),
    path("views/<int:pk>/filters/", views.view_update_query, name="view_update_query"),
    path("views/<int:pk>/delete/", views.view_delete, name="view_delete"),
    path("bulk/", views.bulk, name="bulk"),
    path("bulk/<str:token>/", views.bulk_summary, name="bulk_summary"),
]
