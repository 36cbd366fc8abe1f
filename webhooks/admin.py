from django.contrib import admin, messages

from .models import Delivery, Subscription
from .services import delivery_redeliver


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("url", "active", "consecutive_failures", "disabled_reason")
    list_filter = ("active",)


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
