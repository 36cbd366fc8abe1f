from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/read/", views.NotificationReadApi.as_view(), name="api-notifications-read"),
]
