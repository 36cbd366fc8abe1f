from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User
from .services import user_access_record, user_access_snapshot


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Tandem", {"fields": ("time_zone",)}))
    list_display = ("username", "first_name", "last_name", "email", "time_zone", "is_staff")

    def save_model(self, request, obj, form, change):
        # Roles (groups) are saved after the user, in save_related: remember the stored
        # access now and audit the whole change once the groups are in.
        # (On the request, not on self: one ModelAdmin serves every request.)
        request._tandem_access_before = user_access_snapshot(obj) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before = getattr(request, "_tandem_access_before", None)
        user_access_record(user=form.instance, actor=request.user, before=before or {}, created=not change)
