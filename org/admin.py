"""Admin for the organisation: teams, services, customers and contacts are saved by
org.services, as from the API and the browser (the same rules, lock and audit row)."""

from django.contrib import admin

from tracker.admin import ServiceModelAdmin

from . import services
from .models import Contact, Customer, Service, Team


def _values(form, fields) -> dict:
    values = {f: form.cleaned_data[f] for f in fields if f in form.cleaned_data}
    if "members" in values:
        values["members"] = list(values["members"])
    return values


@admin.register(Team)
class TeamAdmin(ServiceModelAdmin):
    list_display = ("name", "tier", "is_development", "capacity_unit", "support_allocation_percent")
    list_filter = ("tier", "is_development")
    filter_horizontal = ("members",)
    search_fields = ("name",)

    def service_save(self, request, obj, form, change):
        values = _values(form, services.TEAM_FIELDS)
        if change:
            return services.team_update(team=obj, actor=request.user, **values)
        return services.team_create(actor=request.user, **values)

    def service_delete(self, request, obj):
        services.team_delete(team=obj, actor=request.user)


@admin.register(Service)
class ServiceAdmin(ServiceModelAdmin):
    list_display = ("name", "team", "support_team", "support_model")
    list_select_related = ("team", "support_team")
    search_fields = ("name",)

    def service_save(self, request, obj, form, change):
        values = _values(form, services.SERVICE_FIELDS)
        if change:
            return services.service_update(service=obj, actor=request.user, **values)
        return services.service_create(actor=request.user, **values)

    def service_delete(self, request, obj):
        services.service_delete(service=obj, actor=request.user)


class ContactInline(admin.TabularInline):
    """Read here; a contact is added or changed on its own admin page (org.services)."""

    model = Contact
    extra = 0
    fields = ("name", "email", "phone")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(ServiceModelAdmin):
    list_display = ("name", "country", "email_domains")
    search_fields = ("name",)
    inlines = [ContactInline]

    def service_save(self, request, obj, form, change):
        values = _values(form, services.CUSTOMER_FIELDS)
        if change:
            return services.customer_update(customer=obj, actor=request.user, **values)
        return services.customer_create(actor=request.user, **values)

    def service_delete(self, request, obj):
        services.customer_delete(customer=obj, actor=request.user)


@admin.register(Contact)
class ContactAdmin(ServiceModelAdmin):
    list_display = ("name", "email", "phone", "customer", "is_customer_admin")
    list_select_related = ("customer",)
    list_filter = ("customer", "is_customer_admin")
    search_fields = ("name", "email")
    # The portal account is made by accepting an invitation (org.services.access), never here.
    fields = ("customer", "name", "email", "phone", "is_customer_admin", "user")
    readonly_fields = ("user",)

    def service_save(self, request, obj, form, change):
        values = _values(form, ("customer", *services.CONTACT_FIELDS, "is_customer_admin"))
        if change:
            return services.contact_update(contact=obj, data=values)
        return services.contact_create(**values)
