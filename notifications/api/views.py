"""The caller's own notifications over the API: the list (newest first, `?unread=true`), the
unread count, and marking read. Nobody reads another user's notifications."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker.api.pagination import CursorPagination

from .. import services
from ..models import Kind, Notification


class NotificationSerializer(serializers.ModelSerializer):
    incident: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True)
    kind = serializers.ChoiceField(choices=Kind.choices)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "incident", "created_at", "read_at"]


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_empty=False,
        help_text="Which of your notifications to mark read; omitted: all of them.",
    )


class NotificationListApi(APIView):
    pagination_class = CursorPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("unread", bool, description="Only those not read yet."),
            OpenApiParameter("cursor", str, description="From the `next` link of the previous page."),
            OpenApiParameter("page_size", int, description="Rows per page (default 50, at most 500)."),
        ],
        responses=inline_serializer(
            "NotificationPage",
            {
                "results": NotificationSerializer(many=True),
                "next": serializers.URLField(allow_null=True),
                "unread": serializers.IntegerField(help_text="Your unread notifications, all pages."),
            },
        ),
    )
    def get(self, request):
        unread_only = request.query_params.get("unread", "")
        if unread_only not in ("", "true", "false"):
            raise ValidationError({"unread": ["Use true or false."]})
        mine = Notification.objects.filter(recipient=request.user)
        qs = mine.filter(read_at__isnull=True) if unread_only == "true" else mine
        paginator = CursorPagination()
        page = paginator.paginate_queryset(qs.order_by("-created_at", "-id"), request, view=self)
        response = paginator.get_paginated_response(NotificationSerializer(page, many=True).data)
        response.data["unread"] = mine.filter(read_at__isnull=True).count()
        return response


class NotificationReadApi(APIView):
    @extend_schema(
        request=MarkReadSerializer,
        responses=inline_serializer("NotificationsMarked", {"marked": serializers.IntegerField()}),
    )
    def post(self, request):
        ser = MarkReadSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        ids = ser.validated_data.get("ids")
        if ids is None:
            marked = services.notification_mark_read(user=request.user)
        else:
            marked = sum(services.notification_mark_read(user=request.user, pk=pk) for pk in ids)
        return Response({"marked": marked})
