from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("", views.webhook_list, name="list"),
    path("<int:pk>/toggle/", views.webhook_toggle, name="toggle"),
    path("deliveries/<int:pk>/resend/", views.delivery_resend, name="resend"),
]
