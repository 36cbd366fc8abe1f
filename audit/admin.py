from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEntry

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[AuditEntry]
else:  # ModelAdmin is generic only in the stubs (no django_stubs_ext monkeypatch here)
    _ModelAdmin = admin.ModelAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(_ModelAdmin):
    """Read-only: audit rows are written by the services and never edited."""

    list_display = ("at", "actor", "model", "object_id", "object_repr", "action")
    list_filter = ("model", "action")
    search_fields = ("object_repr", "object_id", "actor__username")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False
