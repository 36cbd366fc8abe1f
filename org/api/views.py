"""Teams, services and customers: readable by all staff, maintained by managers."""

from django.db.models import ProtectedError
from rest_framework import permissions, viewsets
from rest_framework.exceptions import ValidationError

from accounts.roles import Role, has_role, is_staff_member
from org.models import Customer, Service, Team

from .serializers import CustomerSerializer, ServiceSerializer, TeamSerializer


def can_manage_organisation(user) -> bool:
    return has_role(user, Role.MANAGER)


class StaffReadManagerWrite(permissions.BasePermission):
    message = "Only managers can change teams, services and customers."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return is_staff_member(request.user)
        return can_manage_organisation(request.user)


class _OrgViewSet(viewsets.ModelViewSet):
    permission_classes = [permissions.IsAuthenticated, StaffReadManagerWrite]
    lookup_value_regex = r"\d+"
    ordering_fields = ["name", "id"]

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError:
            raise ValidationError(
                {"detail": [f"{instance} is still in use and cannot be deleted."]}
            ) from None


class TeamViewSet(_OrgViewSet):
    queryset = Team.objects.prefetch_related("members").order_by("tier", "name")
    serializer_class = TeamSerializer
    filterset_fields = ["tier", "is_development"]


class ServiceViewSet(_OrgViewSet):
    queryset = Service.objects.order_by("name")
    serializer_class = ServiceSerializer
    filterset_fields = ["team", "support_team", "support_model"]


class CustomerViewSet(_OrgViewSet):
    queryset = Customer.objects.order_by("name")
    serializer_class = CustomerSerializer
    filterset_fields = ["country"]
