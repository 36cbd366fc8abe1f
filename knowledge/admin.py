"""Admin for articles: saved by knowledge.services like the pages and the API (the same
checks, the version bump and a revision per save); revisions are read-only history."""

from django.contrib import admin

from tracker.admin import ServiceModelAdmin, service_action

from . import services
from .models import Article, ArticleRevision


class RevisionInline(admin.TabularInline):
    model = ArticleRevision
    extra = 0
    fields = ("number", "event", "at", "actor", "title", "visibility", "service", "note")
    readonly_fields = fields
    can_delete = False
    ordering = ("-number",)

    def has_add_permission(self, request, obj=None):
        return False


def _archive(article, *, actor):
    services.article_archive(article=article, actor=actor)


def _restore(article, *, actor):
    services.article_restore(article=article, actor=actor)


@admin.register(Article)
class ArticleAdmin(ServiceModelAdmin):
    list_display = ("key", "title", "visibility", "service", "updated_at", "archived_at")
    list_filter = ("visibility", "service", ("archived_at", admin.EmptyFieldListFilter))
    list_select_related = ("service",)
    search_fields = ("key", "title")
    fields = ("title", "body", "visibility", "service")
    inlines = [RevisionInline]
    actions = ["archive_articles", "restore_articles"]
    archive_articles = service_action("Archive the selected articles", _archive, verb="archived")
    restore_articles = service_action("Restore the selected articles", _restore, verb="restored")

    def service_save(self, request, obj, form, change):
        values = {f: form.cleaned_data[f] for f in services.EDITABLE_FIELDS if f in form.cleaned_data}
        if change:
            return services.article_update(article=obj, actor=request.user, data=values)
        return services.article_create(actor=request.user, **values)

    def has_delete_permission(self, request, obj=None):
        # Articles are archived, not deleted: their history and the links sent to customers stay.
        return False
