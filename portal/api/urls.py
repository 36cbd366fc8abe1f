from django.urls import path

from .views import (
    PortalAttachmentDownloadApi,
    PortalIncidentCommentsApi,
    PortalIncidentDetailApi,
    PortalIncidentListApi,
    PortalIncidentRatingApi,
)

urlpatterns = [
    path("incidents/", PortalIncidentListApi.as_view(), name="portal-incidents"),
    path("incidents/<int:pk>/", PortalIncidentDetailApi.as_view(), name="portal-incident"),
    path(
        "incidents/<int:pk>/comments/", PortalIncidentCommentsApi.as_view(), name="portal-incident-comments"
    ),
    path("incidents/<int:pk>/rating/", PortalIncidentRatingApi.as_view(), name="portal-incident-rating"),
    path(
        "attachments/<int:pk>/download/",
        PortalAttachmentDownloadApi.as_view(),
        name="portal-attachment-download",
    ),
]
