import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from tracker.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent

from ..models import ChangeRequest, ChangeStatus, Kind, Source
from ..permissions import can_read_changes, can_submit_change, can_triage
from ..selectors import change_request_list
from ..services import change_request_create, change_request_triage, change_request_triage_preview
from .serializers import ChangeRequestCreateSerializer, ChangeRequestSerializer, TriageSerializer


class ChangeRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ChangeStatus.choices)
    source = django_filters.ChoiceFilter(choices=Source.choices)
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    search = django_filters.CharFilter(field_name="title", lookup_expr="icontains")

    class Meta:
        model = ChangeRequest
        fields = ["status", "source", "kind", "team"]


class CanReadChanges(BasePermission):
    message = "Change requests are for Tandem staff."

    def has_permission(self, request, view):
        return can_read_changes(request.user)


class ChangeRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Requests for change (RFCs) and the product owner's triage."""

    serializer_class = ChangeRequestSerializer
    permission_classes = [IsAuthenticated, CanReadChanges]
    lookup_value_regex = r"\d+"
    filterset_class = ChangeRequestFilter
    ordering_fields = ["created_at", "status", "kind"]

    def get_queryset(self):
        return change_request_list().prefetch_related("incidents").order_by("-created_at", "-id")

    @extend_schema(
        request=ChangeRequestCreateSerializer,
        responses={201: ChangeRequestSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        if not can_submit_change(request.user):
            raise PermissionDenied("Your role cannot submit change requests.")
        data = ChangeRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = change_request_create(actor=request.user, **data.validated_data)
        return Response(self._read(change.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=TriageSerializer, responses={200: ChangeRequestSerializer})
    @action(detail=True, methods=["post"])
    def triage(self, request, pk=None):
        change = get_object_or_404(ChangeRequest, pk=pk)
        if not can_triage(request.user):
            raise PermissionDenied("Only product owners and managers triage change requests.")
        data = TriageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if values.pop("preview"):
            preview = change_request_triage_preview(change=change, actor=request.user, **values)
            return Response(
                {**self._read(change.pk), "sprint_impact": preview.sprint_impact if preview else None}
            )
        decided = change_request_triage(change=change, actor=request.user, **values)
        return Response({**self._read(change.pk), "sprint_impact": decided.sprint_impact})

    def _read(self, pk):
        return ChangeRequestSerializer(self.get_queryset().get(pk=pk)).data
