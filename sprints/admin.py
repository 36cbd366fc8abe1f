"""Admin for sprints: edits and lifecycle actions go through the services (sprint_create,
sprint_update, sprint_start, sprint_close), so their rules hold here as in the browser and
the API; state, commitment and velocity are read-only."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from tracker.admin import ServiceModelAdmin
from tracker.exceptions import DomainError

from . import services
from .models import ScopeChange, Sprint, SprintCommitment, SprintMember, SprintState


class SprintMemberInline(admin.TabularInline):
    model = SprintMember
    extra = 0
    fields = ("user", "days_off", "hours_per_day", "focus_factor")
    # Availability is edited on the sprint page or the API, where the service checks it.
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


EDITABLE = ("name", "goal", "start", "end", "board", "support_member")


@admin.register(Sprint)
class SprintAdmin(ServiceModelAdmin):
    list_display = ["name", "team", "state", "start", "end", "support_member", "committed", "velocity"]
    list_filter = ["state", "team"]
    search_fields = ["name", "goal"]
    fields = [
        "team",
        *EDITABLE,
        "state",
        "committed",
        "capacity_at_start",
        "velocity",
        "started_at",
        "closed_at",
    ]
    readonly_fields = ["state", "committed", "capacity_at_start", "velocity", "started_at", "closed_at"]
    inlines = [SprintMemberInline]
    actions = ["start_sprints", "start_sprints_confirmed", "close_sprints", "close_sprints_confirmed"]

    def get_readonly_fields(self, request, obj=None):
        # A sprint stays with its team; a closed sprint is history.
        if obj is None:
            return self.readonly_fields
        if obj.state == SprintState.CLOSED:
            return ["team", *EDITABLE, *self.readonly_fields]
        return ["team", *self.readonly_fields]

    def service_save(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in EDITABLE if f in form.cleaned_data}
        if change:
            return services.sprint_update(sprint=obj, actor=request.user, **data)
        return services.sprint_create(team=form.cleaned_data.get("team"), actor=request.user, **data)

    def _run(self, request, queryset, fn, verb, *, confirm=False, confirmed_action=""):
        for sprint in queryset:
            try:
                fn(sprint=sprint, actor=request.user, confirm=confirm)
            except services.ConfirmationRequired as exc:
                # The service's own wording of the risks; the admin's way to accept them.
                detail = exc.detail.replace("Send confirm: true to go ahead.", "").strip()
                hint = f"To go ahead, use “{confirmed_action}”."
                self.message_user(request, f"{sprint.name}: {detail} {hint}", messages.WARNING)
            except (DomainError, ValidationError) as exc:
                self.message_user(request, f"{sprint.name}: {getattr(exc, 'detail', exc)}", messages.ERROR)
            else:
                self.message_user(request, f"{sprint.name} {verb}.")

    START_CONFIRMED = "Start the selected sprints, accepting the risks shown"
    CLOSE_CONFIRMED = "Close the selected sprints, accepting the risks shown"

    @admin.action(description="Start the selected sprints")
    def start_sprints(self, request, queryset):
        self._run(request, queryset, services.sprint_start, "started", confirmed_action=self.START_CONFIRMED)

    @admin.action(description=START_CONFIRMED)
    def start_sprints_confirmed(self, request, queryset):
        self._run(request, queryset, services.sprint_start, "started", confirm=True)

    @admin.action(description="Close the selected sprints (unfinished cards to the backlog)")
    def close_sprints(self, request, queryset):
        self._run(request, queryset, services.sprint_close, "closed", confirmed_action=self.CLOSE_CONFIRMED)

    @admin.action(description=CLOSE_CONFIRMED)
    def close_sprints_confirmed(self, request, queryset):
        self._run(request, queryset, services.sprint_close, "closed", confirm=True)


@admin.register(ScopeChange)
class ScopeChangeAdmin(admin.ModelAdmin):
    list_display = ["at", "sprint", "card", "change", "source", "estimate_delta", "actor"]
    list_filter = ["change", "source"]
    list_select_related = ["sprint", "card", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SprintCommitment)
class SprintCommitmentAdmin(admin.ModelAdmin):
    list_display = ["sprint", "card", "estimate"]
    list_select_related = ["sprint", "card"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
