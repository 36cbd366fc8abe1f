"""Teams, services and customers: readable by all staff, maintained by managers."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.roles import is_staff_member
from org import services
from org.models import Customer, Service, Team
from org.permissions import can_manage_contacts, can_manage_organisation
from org.selectors import contact_list

from .serializers import (
    ContactInSerializer,
    ContactPatchSerializer,
    ContactSerializer,
    CustomerSerializer,
    InvitationSerializer,
    ServiceSerializer,
    TeamSerializer,
)


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


class _ServiceWrites:
    """Creates, updates and deletes call the org service (its lock, its rules, its audit
    row); the serializer only parses the body. `*_with` name the services."""

    create_with: Callable[..., Any]
    update_with: Callable[..., Any]
    delete_with: Callable[..., Any]
    record_name = ""

    def perform_create(self, serializer):
        serializer.instance = type(self).create_with(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = type(self).update_with(
            actor=self.request.user, **{self.record_name: serializer.instance}, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        type(self).delete_with(actor=self.request.user, **{self.record_name: instance})


class TeamViewSet(_ServiceWrites, _OrgViewSet):
    queryset = Team.objects.prefetch_related("members").order_by("tier", "name")
    serializer_class = TeamSerializer
    filterset_fields = ["tier", "is_development"]
    create_with = staticmethod(services.team_create)
    update_with = staticmethod(services.team_update)
    delete_with = staticmethod(services.team_delete)
    record_name = "team"


class ServiceViewSet(_ServiceWrites, _OrgViewSet):
    queryset = Service.objects.order_by("name")
    serializer_class = ServiceSerializer
    filterset_fields = ["team", "support_team", "support_model"]
    create_with = staticmethod(services.service_create)
    update_with = staticmethod(services.service_update)
    delete_with = staticmethod(services.service_delete)
    record_name = "service"


class CustomerViewSet(_ServiceWrites, _OrgViewSet):
    queryset = Customer.objects.order_by("name")
    serializer_class = CustomerSerializer
    filterset_fields = ["country"]
    create_with = staticmethod(services.customer_create)
    update_with = staticmethod(services.customer_update)
    delete_with = staticmethod(services.customer_delete)
    record_name = "customer"


class ContactsPermission(permissions.BasePermission):
    message = "Your role cannot change contacts."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return is_staff_member(request.user)
        return can_manage_contacts(request.user)


class ContactViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """People at customers. `?customer=<id>` and `?search=<name or address>` filter the list."""

    serializer_class = ContactSerializer
    permission_classes = [permissions.IsAuthenticated, ContactsPermission]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["name", "email", "id"]
    filterset_fields = ["customer"]

    def get_queryset(self):
        return contact_list().select_related("user").prefetch_related("invitations")

    def filter_queryset(self, queryset):
        qs = super().filter_queryset(queryset)
        search = self.request.query_params.get("search", "")
        if self.action == "list" and search:
            qs = (
                contact_list(search=search)
                .select_related("user")
                .prefetch_related("invitations")
                .filter(pk__in=qs.values("pk"))
            )
        return qs

    @extend_schema(request=ContactInSerializer, responses={201: ContactSerializer})
    def create(self, request):
        data = ContactInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = services.contact_create(**data.validated_data)
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ContactPatchSerializer, responses=ContactSerializer)
    def partial_update(self, request, pk=None):
        contact = self.get_object()
        data = ContactPatchSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        contact = services.contact_update(contact=contact, data=dict(data.validated_data))
        return Response(ContactSerializer(contact).data)

    @extend_schema(request=None, responses={201: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def invite(self, request, pk=None):
        """E-mail the contact a one-time link to the portal's activation page (a newer
        invitation replaces an open one); 409 when they already have an account."""
        invitation = services.contact_invite(contact=self.get_object(), actor=request.user)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)
