from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.create, name="create"),
    path("<str:key>/", views.detail, name="detail"),
    path("<str:key>/<str:name>/", views.act, name="action"),
]
