"""SLA calendars and policies: readable by all staff, written by managers through the
same services as the browser and the admin."""

from rest_framework import mixins, permissions, viewsets

from sla import services
from sla.permissions import can_manage_sla, can_view_sla_settings
from sla.selectors import calendar_list, policy_list

from .serializers import BusinessCalendarSerializer, SLAPolicySerializer


class StaffReadManagerWrite(permissions.BasePermission):
    message = "Only managers can change SLA calendars and policies."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return can_view_sla_settings(request.user)
        return can_manage_sla(request.user)


class _SettingsViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [permissions.IsAuthenticated, StaffReadManagerWrite]
    lookup_value_regex = r"\d+"


class BusinessCalendarViewSet(_SettingsViewSet):
    serializer_class = BusinessCalendarSerializer
    filterset_fields = ["always_open", "country"]

    def get_queryset(self):
        return calendar_list()

    def perform_create(self, serializer):
        serializer.instance = services.calendar_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.calendar_update(
            calendar=serializer.instance, actor=self.request.user, **serializer.validated_data
        )


class SLAPolicyViewSet(_SettingsViewSet):
    serializer_class = SLAPolicySerializer
    filterset_fields = ["priority", "service", "customer", "calendar", "active"]

    def get_queryset(self):
        return policy_list()

    def perform_create(self, serializer):
        serializer.instance = services.policy_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.policy_update(
            policy=serializer.instance, actor=self.request.user, **serializer.validated_data
        )
