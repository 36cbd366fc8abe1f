from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "title", "read_at", "email_state")
    list_filter = ("kind", "email_state")
    search_fields = ("title", "recipient__username")
    raw_id_fields = ("recipient", "incident")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
