from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from ..models import Delivery, Event, Subscription
from ..permissions import can_manage_webhooks
from ..services import delivery_redeliver, subscription_create, subscription_delete, subscription_update


class CanManageWebhooks(BasePermission):
    message = "Only managers and admins manage webhooks."

    def has_permission(self, request, view):
        return can_manage_webhooks(request.user)


class SubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices), required=False, default=list
    )
    secret = serializers.CharField(required=False, min_length=16, max_length=100)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "url",
            "events",
            "secret",
            "active",
            "description",
            "consecutive_failures",
            "disabled_reason",
        ]
        read_only_fields = ["consecutive_failures", "disabled_reason"]


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "delivery_id",
            "subscription",
            "event",
            "status",
            "attempts",
            "response_code",
            "last_error",
            "created_at",
            "next_attempt_at",
            "delivered_at",
            "payload",
        ]
        read_only_fields = fields


class SubscriptionViewSet(viewsets.ModelViewSet):
    """Webhook subscriptions. Deliveries are signed: `X-Tandem-Signature: sha256=<hex HMAC of the body>`."""

    serializer_class = SubscriptionSerializer
    permission_classes = [CanManageWebhooks]
    queryset = Subscription.objects.order_by("id")
    lookup_value_regex = r"\d+"

    def perform_create(self, serializer):
        serializer.instance = subscription_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = subscription_update(
            subscription=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        subscription_delete(subscription=instance, actor=self.request.user)

    @extend_schema(
        operation_id="webhooks_subscription_deliveries", responses={200: DeliverySerializer(many=True)}
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        subscription = self.get_object()
        page = self.paginate_queryset(subscription.deliveries.order_by("-created_at", "-id"))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log: status, response code and attempts of every send."""

    serializer_class = DeliverySerializer
    permission_classes = [CanManageWebhooks]
    queryset = Delivery.objects.order_by("-created_at", "-id")
    lookup_value_regex = r"\d+"
    filterset_fields = ["status", "event", "subscription"]

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        delivery = delivery_redeliver(delivery=get_object_or_404(Delivery, pk=pk))
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
