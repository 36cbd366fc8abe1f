"""Admin for board configuration. Cards are read here; they move only through the services
(the board, its move form and the API), so WIP limits and history cannot be bypassed."""

from django.contrib import admin

from .models import BlockPeriod, Board, Card, CardMove, Column, Lane, ReasonCode, Release


class ColumnInline(admin.TabularInline):
    model = Column
    extra = 0
    fields = ("position", "name", "category", "wip_min", "wip_max")


class LaneInline(admin.TabularInline):
    model = Lane
    extra = 0
    fields = ("position", "name", "kind")


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ("name", "key_prefix", "created_at")
    filter_horizontal = ("teams",)
    inlines = [ColumnInline, LaneInline]


@admin.register(ReasonCode)
class ReasonCodeAdmin(admin.ModelAdmin):
    list_display = ("label", "kind", "code", "active")
    list_filter = ("kind", "active")


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ("name", "board", "planned_for", "deployed_at")
    list_filter = ("board",)


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
