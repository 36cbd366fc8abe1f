from django.urls import path

from .views import EscalateToDevelopmentApi

urlpatterns = [
    path(
        "incidents/<int:pk>/escalate-to-development/",
        EscalateToDevelopmentApi.as_view(),
        name="incident-escalate-to-development",
    ),
]
