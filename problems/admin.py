"""Admin for problems: created and edited through problems.services (keys, the known-error
rule, the history rows), like the pages and the API; links and history are read-only here."""

from django.contrib import admin

from tracker.admin import ServiceModelAdmin

from . import services
from .models import Problem, ProblemEvent, ProblemIncident


class ProblemIncidentInline(admin.TabularInline):
    model = ProblemIncident
    fields = ("incident", "linked_at", "linked_by")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Problem)
class ProblemAdmin(ServiceModelAdmin):
    list_display = ("key", "title", "status", "service", "owner", "card", "created_at")
    list_filter = ("status", "service")
    list_select_related = ("service", "owner", "card")
    search_fields = ("key", "title", "workaround")
    fields = ("key", "title", "status", "service", "owner", "description", "root_cause", "workaround", "card")
    readonly_fields = ("key", "status", "card")
    inlines = [ProblemIncidentInline]

    def service_save(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.EDITABLE_FIELDS if f in form.cleaned_data}
        if change:
            return services.problem_update(problem=Problem.objects.get(pk=obj.pk), actor=request.user, **data)
        return services.problem_create(actor=request.user, **data)


@admin.register(ProblemEvent)
class ProblemEventAdmin(admin.ModelAdmin):
    list_display = ("problem", "event", "field", "actor", "at")
    list_select_related = ("problem", "actor")
    readonly_fields = [f.name for f in ProblemEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
