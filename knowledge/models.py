"""The knowledge base: articles in Markdown, internal (staff) or public (customers too), per
service or for every service, and each article's revisions (who changed what, when)."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class Visibility(models.TextChoices):
    INTERNAL = "internal", "Internal (staff only)"
    PUBLIC = "public", "Public (customers too)"


class Article(models.Model):
    """One article. `body` is Markdown, rendered and sanitised by knowledge.rendering on
    every display (never stored as HTML). Written only by knowledge.services, which keeps
    `version` (optimistic concurrency), the revisions and the search vector."""

    key = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Markdown.")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL)
    service = models.ForeignKey(
        "org.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        help_text="Empty: the article applies to every service.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The problem (problems.Problem id) whose known-error workaround this article was made
    # from. An id, not a foreign key: problems sits above knowledge in the layers.
    source_problem_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # PostgreSQL: title (weight A) and body (weight B) as a tsvector, kept by the services and
    # GIN-indexed (migration 0002). NULL on SQLite, whose search falls back to word matches.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["visibility", "archived_at"]),
            models.Index(fields=["service", "visibility"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(visibility__in=["internal", "public"]), name="article_visibility_known"
            ),
        ]

    def __str__(self):
        return f"{self.key} {self.title}"

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class ArticleRevision(models.Model):
    """The article as it stood after one save (number 1 is the creation). Append-only: the
    history page compares each revision with the one before it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    service = models.ForeignKey(
        "org.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the save did besides editing: "created", "edited", "archived", "restored".
    event = models.CharField(max_length=20, default="edited")
    note = models.CharField(max_length=300, blank=True, help_text="The editor's summary of the change.")

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_revision_number_unique"),
        ]

    def __str__(self):
        return f"{self.article_id} r{self.number}"
