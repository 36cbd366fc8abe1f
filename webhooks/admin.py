"""Admin for webhooks: subscriptions are saved by webhooks.services (URL and event checks,
re-activation clearing the failure count), deliveries are read-only and can be sent again."""

from django.contrib import admin, messages
from django.db import models

from tracker.admin import ServiceModelAdmin

from . import services
from .models import Delivery, Subscription
from .services import delivery_redeliver

SUBSCRIPTION_FIELDS = ("url", "events", "secret", "active", "description")


@admin.register(Subscription)
class SubscriptionAdmin(ServiceModelAdmin):
    list_display = ("url", "active", "consecutive_failures", "disabled_reason")
    list_filter = ("active",)
    fields = (*SUBSCRIPTION_FIELDS, "created_by", "created_at", "consecutive_failures", "disabled_reason")
    readonly_fields = ("created_by", "created_at", "consecutive_failures", "disabled_reason")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default

    def service_save(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in SUBSCRIPTION_FIELDS}
        if change:
            return services.subscription_update(subscription=obj, actor=request.user, **data)
        return services.subscription_create(actor=request.user, **data)

    def delete_model(self, request, obj):
        services.subscription_delete(subscription=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for subscription in queryset.order_by("pk"):
            services.subscription_delete(subscription=subscription, actor=request.user)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "delivery_id",
        "event",
        "subscription",
        "status",
        "attempts",
        "response_code",
        "created_at",
    )
    list_filter = ("status", "event")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["redeliver"]

    @admin.action(description="Deliver again")
    def redeliver(self, request, queryset):
        for delivery in queryset:
            delivery_redeliver(delivery=delivery)
        messages.success(request, f"{queryset.count()} deliveries queued again.")
