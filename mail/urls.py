from django.urls import path

from . import views

app_name = "mail"
urlpatterns = [
    path("comments/<int:comment>/resend/", views.comment_resend, name="comment_resend"),
    path("mailboxes/", views.mailbox_list, name="mailboxes"),
    path("mailboxes/<int:pk>/", views.mailbox_list, name="mailbox_edit"),
    path("log/", views.mail_log, name="log"),
    path("log/<int:pk>/retry/", views.mail_log_retry, name="log_retry"),
    path("log/<int:pk>/original/", views.message_original, name="original"),
]
