"""`GET /api/v1/audit-log/` (managers): the configuration audit log, newest first."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from audit.models import AuditAction, AuditEntry
from audit.selectors import AuditFilters, audit_entry_list
from tracker.api.pagination import CursorPagination

from ..permissions import can_read_audit_log


class CanReadAuditLog(BasePermission):
    message = "Only managers and admins read the audit log."

    def has_permission(self, request, view):
        return can_read_audit_log(request.user)


class AuditEntrySerializer(serializers.ModelSerializer):
    actor: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    actor_name = serializers.SerializerMethodField()
    action = serializers.ChoiceField(choices=AuditAction.choices)
    changes = serializers.DictField(
        child=serializers.ListField(min_length=2, max_length=2, allow_null=True),
        help_text="{field: [old, new]}; old is null on create, new is null on delete.",
    )

    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor", "actor_name", "model", "object_id", "object_repr", "action", "changes"]

    def get_actor_name(self, entry) -> str:
        if entry.actor is None:
            return "System"
        return entry.actor.get_full_name() or entry.actor.get_username()


class AuditFilterSerializer(serializers.Serializer):
    model = serializers.CharField(required=False, max_length=60)
    object_id = serializers.CharField(required=False, max_length=40)
    actor = serializers.IntegerField(required=False, min_value=1)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": ["Must be after since."]})
        return attrs


class AuditLogApi(APIView):
    permission_classes = [CanReadAuditLog]
    pagination_class = CursorPagination

    @extend_schema(
        operation_id="audit_log_list",
        parameters=[
            OpenApiParameter("model", str, description='e.g. "sla.policy", "boards.column".'),
            OpenApiParameter("object_id", str),
            OpenApiParameter("actor", int, description="User id of who made the change."),
            OpenApiParameter("since", str, description="ISO 8601, inclusive."),
            OpenApiParameter("until", str, description="ISO 8601, exclusive."),
            OpenApiParameter("cursor", str, description="From the `next` link of the previous page."),
            OpenApiParameter("page_size", int, description="Rows per page (default 50, at most 500)."),
        ],
        responses=inline_serializer(
            "AuditLogPage",
            {
                "results": AuditEntrySerializer(many=True),
                "next": serializers.URLField(allow_null=True),
            },
        ),
    )
    def get(self, request):
        params = AuditFilterSerializer(data=request.query_params)
        if not params.is_valid():
            raise ValidationError(params.errors)
        filters = AuditFilters(**params.validated_data)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(audit_entry_list(filters=filters), request, view=self)
        return paginator.get_paginated_response(AuditEntrySerializer(page, many=True).data)
