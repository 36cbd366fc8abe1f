from django.urls import path

from . import views

app_name = "mail"
urlpatterns = [
    path("comments/<int:comment>/resend/", views.comment_resend, name="comment_resend"),
]
