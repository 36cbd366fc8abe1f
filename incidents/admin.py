"""Incidents in the Django admin are for looking things up: every change goes through
incidents.services (the incident page and the API), so history and SLA timers stay true."""

from django.contrib import admin

from .models import Comment, Incident, IncidentEvent, TimeEntry


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CommentInline(_ReadOnlyInline):
    model = Comment
    fields = ("created_at", "author", "public", "is_system", "body")


class TimeEntryInline(_ReadOnlyInline):
    model = TimeEntry
    fields = ("created_at", "user", "minutes", "note")


class EventInline(_ReadOnlyInline):
    model = IncidentEvent
    fields = ("at", "actor", "event", "field", "old", "new", "note")


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("key", "title", "priority", "status", "team", "tier", "assignee", "service", "created_at")
    list_filter = ("status", "priority", "tier", "type", "is_major", "service")
    list_select_related = ("team", "assignee", "service")
    search_fields = ("key", "title")
    date_hierarchy = "created_at"
    inlines = [CommentInline, TimeEntryInline, EventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
