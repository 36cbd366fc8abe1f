"""Admin for boards. Every write goes through boards.services, as in the browser and the API:
a board's name and teams through `board_update`, a new release through `release_create`,
deployment through `release_mark_deployed` (an action, so the incidents waiting on the
release come back to support). Columns and lanes (categories, WIP limits, order) are shown
read-only: the board settings page and the API change them under the board's lock. Cards
are read here; they move only through the services, so WIP limits and history hold."""

from django.contrib import admin

from tracker.admin import ServiceModelAdmin, service_action

from . import services
from .models import BlockPeriod, Board, Card, CardMove, Column, Lane, ReasonCode, Release


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ColumnInline(_ReadOnlyInline):
    model = Column
    fields = ("position", "name", "category", "wip_min", "wip_max")
    verbose_name_plural = "Columns (change them in the board's settings)"


class LaneInline(_ReadOnlyInline):
    model = Lane
    fields = ("position", "name", "kind", "wip_max")
    verbose_name_plural = "Lanes (change them in the board's settings)"


@admin.register(Board)
class BoardAdmin(ServiceModelAdmin):
    list_display = ("name", "key_prefix", "created_at")
    fields = ("name", "teams", "key_prefix", "created_at")
    readonly_fields = ("key_prefix", "created_at")
    filter_horizontal = ("teams",)
    inlines = [ColumnInline, LaneInline]

    def has_add_permission(self, request):
        return False  # a board is set up with its columns and lanes: the new-board form or the API

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        return services.board_update(
            board=obj, actor=request.user, name=data["name"], teams=list(data["teams"])
        )


@admin.register(ReasonCode)
class ReasonCodeAdmin(admin.ModelAdmin):
    list_display = ("label", "kind", "code", "active")
    list_filter = ("kind", "active")


def _deploy(release, *, actor):
    return services.release_mark_deployed(release=release, actor=actor)


@admin.register(Release)
class ReleaseAdmin(ServiceModelAdmin):
    list_display = ("name", "board", "planned_for", "deployed_at")
    list_filter = ("board",)
    actions = ["mark_deployed"]

    mark_deployed = service_action(
        "Mark the selected releases deployed (their incidents go back to support)", _deploy, verb="deployed"
    )

    def get_fields(self, request, obj=None):
        return ("board", "name", "planned_for", "deployed_at") if obj else ("board", "name", "planned_for")

    def has_change_permission(self, request, obj=None):
        return False  # a release is created here; deployment is the action above

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        return services.release_create(
            board=data["board"], name=data["name"], planned_for=data.get("planned_for"), actor=request.user
        )


class CardMoveInline(admin.TabularInline):
    model = CardMove
    extra = 0
    can_delete = False
    fields = ("at", "actor", "from_column", "to_column", "from_lane", "to_lane", "override_reason", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class BlockPeriodInline(admin.TabularInline):
    model = BlockPeriod
    extra = 0
    can_delete = False
    fields = ("reason", "note", "started_at", "ended_at", "started_by")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = ("key", "title", "board", "type", "column", "lane", "assignee", "blocked")
    list_filter = ("board", "type", "blocked", "column__category")
    search_fields = ("key", "title")
    list_select_related = ("board", "column", "lane", "assignee")
    inlines = [CardMoveInline, BlockPeriodInline]

    def has_add_permission(self, request):
        return False  # cards are created through the board or the API (keys, first move)

    def has_change_permission(self, request, obj=None):
        return False  # moves, blocks, sprint and estimate changes go through the services
