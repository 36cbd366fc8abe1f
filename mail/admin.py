"""Admin for mail: mailboxes are saved by mail.services (addresses normalised and unique, the
IMAP password kept), as from the settings page and the API; sent mail is read-only."""

from django.contrib import admin

from tracker.admin import ServiceModelAdmin

from . import services
from .models import Mailbox, OutboundMail


@admin.register(Mailbox)
class MailboxAdmin(ServiceModelAdmin):
    list_display = ("name", "address", "default_service", "default_customer", "active", "last_polled_at")
    list_select_related = ("default_service", "default_customer")
    exclude = ("imap_url",)  # holds the password: set through the settings page or the API
    readonly_fields = ("imap_address", "last_polled_at", "last_error")

    def service_save(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.FIELDS if f in form.cleaned_data}
        if change:
            return services.mailbox_update(mailbox=obj, data=data)
        return services.mailbox_create(**data)

    @admin.display(description="IMAP address")
    def imap_address(self, obj):
        return obj.imap_url_public


@admin.register(OutboundMail)
class OutboundMailAdmin(admin.ModelAdmin):
    list_display = ("message_id", "kind", "incident", "state", "attempts", "created_at", "sent_at")
    list_filter = ("state", "kind")
    search_fields = ("message_id", "subject")
    readonly_fields = [f.name for f in OutboundMail._meta.fields]

    def has_add_permission(self, request):
        return False
