from django.contrib import admin

from .models import Customer, Service, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "is_development", "capacity_unit", "support_allocation_percent")
    list_filter = ("tier", "is_development")
    filter_horizontal = ("members",)
    search_fields = ("name",)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "support_team", "support_model")
    list_select_related = ("team", "support_team")
    search_fields = ("name",)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "country")
    search_fields = ("name",)
