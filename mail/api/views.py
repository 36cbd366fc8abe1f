"""Mailboxes and the mail log (SPEC Appendix B): managers only."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import services
from ..inbound import inbound_retry
from ..models import InboundMessage, Mailbox
from ..permissions import can_manage_mail
from . import serializers as s


class ManagersOnly(permissions.BasePermission):
    message = "Only managers can see and change mailboxes and the mail log."

    def has_permission(self, request, view):
        return can_manage_mail(request.user)


class MailboxViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.MailboxSerializer
    permission_classes = [permissions.IsAuthenticated, ManagersOnly]
    queryset = Mailbox.objects.order_by("name")
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=s.MailboxInSerializer, responses={201: s.MailboxSerializer})
    def create(self, request):
        data = s.MailboxInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mailbox = services.mailbox_create(actor=request.user, **data.validated_data)
        return Response(s.MailboxSerializer(mailbox).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.MailboxPatchSerializer, responses=s.MailboxSerializer)
    def partial_update(self, request, pk=None):
        mailbox = self.get_object()
        data = s.MailboxPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mailbox = services.mailbox_update(mailbox=mailbox, data=dict(data.validated_data), actor=request.user)
        return Response(s.MailboxSerializer(mailbox).data)


class MailLogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """What became of every received message. Filters: mailbox, outcome, incident."""

    serializer_class = s.MailLogSerializer
    permission_classes = [permissions.IsAuthenticated, ManagersOnly]
    queryset = InboundMessage.objects.defer("raw", "html").order_by("-received_at", "-id")
    filterset_fields = ["mailbox", "outcome", "incident"]
    lookup_value_regex = r"\d+"

    @extend_schema(request=None, responses=s.MailLogSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        row = inbound_retry(message=get_object_or_404(InboundMessage, pk=pk))
        return Response(s.MailLogSerializer(row).data)
