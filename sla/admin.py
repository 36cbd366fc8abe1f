"""Django admin for calendars and policies: the same service validation and saving as the
browser and the API; timers and events are read-only there."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from . import services
from .models import BusinessCalendar, PausePeriod, SLAEvent, SLAPolicy, SLATimer


class _ServiceValidatedForm(forms.ModelForm):
    # The service's validation of the unsaved record (set by each subclass).
    clean_with: Callable[[Any], None]

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            type(self).clean_with(self.instance)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)


class CalendarAdminForm(_ServiceValidatedForm):
    clean_with = staticmethod(services.clean_calendar)

    class Meta:
        model = BusinessCalendar
        fields = ["name", "timezone", "always_open", "hours", "holidays", "country", "subdivision"]


class PolicyAdminForm(_ServiceValidatedForm):
    clean_with = staticmethod(services.clean_policy)

    class Meta:
        model = SLAPolicy
        fields = list(services.POLICY_FIELDS)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    form = CalendarAdminForm
    list_display = ("name", "timezone", "always_open", "country")
    search_fields = ("name",)

    def save_model(self, request, obj, form, change):
        data = {f: getattr(obj, f) for f in services.CALENDAR_FIELDS}
        saved = (
            services.calendar_update(calendar=obj, actor=request.user, **data)
            if change
            else services.calendar_create(actor=request.user, **data)
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.calendar_delete(calendar=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for calendar in queryset.order_by("pk"):
            services.calendar_delete(calendar=calendar, actor=request.user)


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    form = PolicyAdminForm
    list_display = (
        "name",
        "priority",
        "service",
        "customer",
        "response_minutes",
        "resolution_minutes",
        "active",
    )
    list_filter = ("priority", "active", "calendar")
    list_select_related = ("service", "customer")
    search_fields = ("name",)

    def save_model(self, request, obj, form, change):
        data = {f: getattr(obj, f) for f in services.POLICY_FIELDS}
        saved = (
            services.policy_update(policy=obj, actor=request.user, **data)
            if change
            else services.policy_create(actor=request.user, **data)
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.policy_delete(policy=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for policy in queryset.order_by("pk"):
            services.policy_delete(policy=policy, actor=request.user)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SLATimer)
class SLATimerAdmin(_ReadOnly):
    list_display = ("incident", "metric", "state", "due_at", "breached_at", "policy")
    list_filter = ("metric", "state")
    list_select_related = ("incident", "policy")
    raw_id_fields = ("incident",)


@admin.register(SLAEvent)
class SLAEventAdmin(_ReadOnly):
    list_display = ("timer", "kind", "at", "detected_at", "handled_at")
    list_filter = ("kind",)


@admin.register(PausePeriod)
class PausePeriodAdmin(_ReadOnly):
    list_display = ("timer", "cause", "started_at", "ended_at")
    list_filter = ("cause",)
