"""Attachments over the API (SPEC Appendix B): list and upload (multipart) on an incident,
download (always as an attachment) and a safe inline preview of images."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiTypes, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import permissions as perms
from ..attachments import attachment_create, can_download, previewable
from ..models import Attachment, Comment, Incident
from ..selectors import incident_list


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "comment", "created_at", "download_url"]

    def get_download_url(self, attachment) -> str:
        return f"/api/v1/attachments/{attachment.pk}/download/"


UploadSerializer = inline_serializer(
    "AttachmentUpload",
    {"file": serializers.FileField(), "comment": serializers.IntegerField(required=False)},
)


def _visible_incident(request, pk) -> Incident:
    # As the rest of the incident API: a caller without a role is refused (403).
    if not perms.can_view_incidents(request.user):
        raise PermissionDenied("Your account has no role yet; ask an admin.")
    return get_object_or_404(incident_list(), pk=pk)


class IncidentAttachmentsApi(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        responses=inline_serializer(
            "AttachmentList",
            {
                "results": AttachmentSerializer(many=True),
                "next": serializers.URLField(allow_null=True, help_text="Always null: one page."),
            },
        )
    )
    def get(self, request, pk):
        incident = _visible_incident(request, pk)
        rows = Attachment.objects.filter(incident=incident).order_by("created_at", "id")
        return Response({"results": AttachmentSerializer(rows, many=True).data, "next": None})

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses={201: AttachmentSerializer})
    def post(self, request, pk):
        incident = _visible_incident(request, pk)
        if not perms.can_comment(request.user, incident):
            raise PermissionDenied("Your role cannot add files to incidents.")
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": ["Send the file as multipart field “file”."]})
        comment = None
        raw = request.data.get("comment")
        if raw not in (None, ""):
            if not str(raw).isdigit():
                raise ValidationError({"comment": ["A comment id is a whole number."]})
            comment = Comment.objects.filter(incident=incident, pk=int(raw)).first()
            if comment is None:
                raise ValidationError({"comment": ["No such comment on this incident."]})
        with transaction.atomic():
            attachment = attachment_create(
                incident=incident, upload=upload, actor=request.user, comment=comment
            )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


def _attachment(request, pk) -> Attachment:
    attachment = Attachment.objects.select_related("incident").filter(pk=pk).first()
    # 404, not 403: someone who may not see the incident learns nothing about the file.
    if attachment is None or not can_download(request.user, attachment):
        raise Http404
    return attachment


def _file_response(attachment, *, inline: bool):
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.name,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=300"
    return response


class AttachmentDownloadApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        return _file_response(_attachment(request, pk), inline=False)


class AttachmentPreviewApi(APIView):
    """Images only (PNG, JPEG, GIF, WebP whose bytes agree), shown inline; 404 otherwise."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={(200, "image/*"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        attachment = _attachment(request, pk)
        if not previewable(attachment):
            raise Http404
        return _file_response(attachment, inline=True)


urlpatterns = [
    path("incidents/<int:pk>/attachments/", IncidentAttachmentsApi.as_view(), name="incident-attachments"),
    path("attachments/<int:pk>/download/", AttachmentDownloadApi.as_view(), name="attachment-download"),
    path("attachments/<int:pk>/preview/", AttachmentPreviewApi.as_view(), name="attachment-preview"),
]
