from django.urls import path

from . import views

app_name = "sla"
urlpatterns = [
    path("", views.settings_home, name="settings"),
    path("calendars/new/", views.calendar_create_view, name="calendar_create"),
    path("calendars/<int:pk>/", views.calendar_edit_view, name="calendar_edit"),
    path("policies/new/", views.policy_create_view, name="policy_create"),
    path("policies/<int:pk>/", views.policy_edit_view, name="policy_edit"),
]
