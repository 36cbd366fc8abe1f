"""Every write to the knowledge base: create, edit, archive and restore an article.

Each service is one transaction: it checks the values, locks the article (edits carry the
version the editor loaded: someone else's save in between is refused, never overwritten),
writes the article and its revision (the article as it now stands, append-only), and
refreshes the article's search vector on PostgreSQL.

Permissions are the callers' (knowledge.permissions): the pages, the API, the admin and the
problems app ("a known error's workaround becomes an article") ask the predicate first.
`create_article` / `update_article` are the names the other apps were promised; they are
`article_create` / `article_update`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from org.models import Service
from tracker.exceptions import DomainError, StaleObject
from tracker.models import next_number

from .models import Article, ArticleRevision, Visibility

Actor = User | None
Errors = dict[str, list[str]]

KEY_PREFIX = "KB"
TITLE_MAX = 200
BODY_MAX = 100_000
NOTE_MAX = 300
# What an edit may change.
EDITABLE_FIELDS = ("title", "body", "visibility", "service")


def _check(values: dict[str, Any]) -> dict[str, Any]:
    """The values cleaned (titles trimmed), or a ValidationError naming each bad field."""
    errors: Errors = {}
    clean = dict(values)
    if "title" in values:
        title = (values["title"] or "").strip()
        if not title:
            errors["title"] = ["Give the article a title."]
        elif len(title) > TITLE_MAX:
            errors["title"] = [f"Keep the title to {TITLE_MAX} characters (it has {len(title)})."]
        clean["title"] = title
    if "body" in values:
        body = values["body"] or ""
        if not isinstance(body, str):
            errors["body"] = ["The body is Markdown text."]
        elif len(body) > BODY_MAX:
            errors["body"] = [f"Keep the article under {BODY_MAX:,} characters (it has {len(body):,})."]
        else:
            # Line endings as the browser sends them vary; keep one kind so revisions compare.
            clean["body"] = body.replace("\r\n", "\n")
    if "visibility" in values and values["visibility"] not in Visibility.values:
        errors["visibility"] = [f"Choose one of: {', '.join(Visibility.values)}."]
    if "service" in values and values["service"] is not None and not isinstance(values["service"], Service):
        errors["service"] = ["Choose a service, or none for every service."]
    if errors:
        raise ValidationError(errors)
    return clean


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [f"Keep the summary to {NOTE_MAX} characters."]})
    return note


def _revision(article: Article, *, actor: Actor, at: datetime, event: str, note: str = "") -> ArticleRevision:
    return ArticleRevision.objects.create(
        article=article,
        number=article.version,
        at=at,
        actor=actor,
        title=article.title,
        body=article.body,
        visibility=article.visibility,
        service=article.service,
        event=event,
        note=note,
    )


def _refresh_search_vector(article: Article) -> None:
    """PostgreSQL: the title (weight A) and body (weight B) as an English tsvector, the
    vector the GIN index of migration 0002 covers. SQLite keeps NULL (word matches)."""
    if connection.vendor != "postgresql":
        return
    Article.objects.filter(pk=article.pk).update(
        search_vector=SearchVector("title", weight="A", config="english")
        + SearchVector("body", weight="B", config="english")
    )


def _lock(article: Article, expected_version: int | None) -> Article:
    Article.objects.select_for_update().filter(pk=article.pk).values_list("pk", flat=True).get()
    locked = Article.objects.select_related("service", "author").get(pk=article.pk)
    if expected_version is not None and int(expected_version) != locked.version:
        raise StaleObject(
            f"{locked.key} was changed by someone else since you opened it "
            f"(version {expected_version}, now {locked.version}). Reload it, then make your change again."
        )
    return locked


@transaction.atomic
def article_create(
    *,
    actor: Actor,
    title: str,
    body: str = "",
    visibility: str = Visibility.INTERNAL,
    service: Service | None = None,
    source_problem_id: int | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Article:
    """A new article (key KB-n), with its first revision.

    `source_problem_id`: the problem whose known-error workaround the article records (the
    problems app's "workaround → article"); kept as an id, shown as a link through
    knowledge.hooks.problem_refs.
    """
    at = at or timezone.now()
    values = _check({"title": title, "body": body, "visibility": visibility, "service": service})
    note = _note(note)
    article = Article.objects.create(
        key=f"{KEY_PREFIX}-{next_number(KEY_PREFIX)}",
        author=actor,
        updated_by=actor,
        source_problem_id=source_problem_id,
        created_at=at,
        updated_at=at,
        **values,
    )
    _revision(article, actor=actor, at=at, event="created", note=note)
    _refresh_search_vector(article)
    return article


@transaction.atomic
def article_update(
    *,
    article: Article,
    actor: Actor,
    data: dict[str, Any],
    expected_version: int | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Article:
    """Change the title, body, visibility or service. A save that changes nothing writes no
    revision and keeps the version; any other bumps the version and records a revision."""
    at = at or timezone.now()
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: ["This field cannot be edited here."] for f in sorted(unknown)})
    values = _check(data)
    note = _note(note)
    article = _lock(article, expected_version)
    if article.is_archived:
        raise DomainError(f"{article.key} is archived: restore it before editing.", code="article_archived")
    changed = {f: v for f, v in values.items() if getattr(article, f) != v}
    if not changed:
        return article
    for field, value in changed.items():
        setattr(article, field, value)
    article.version += 1
    article.updated_by = actor
    article.updated_at = at
    article.save()
    _revision(article, actor=actor, at=at, event="edited", note=note)
    if {"title", "body"} & set(changed):
        _refresh_search_vector(article)
    return article


@transaction.atomic
def article_archive(
    *, article: Article, actor: Actor, expected_version: int | None = None, at: datetime | None = None
) -> Article:
    """Take an article out of lists, search, the reply picker and the portal; kept with its
    history and restorable."""
    at = at or timezone.now()
    article = _lock(article, expected_version)
    if article.is_archived:
        raise DomainError(f"{article.key} is already archived.", code="article_archived")
    article.archived_at = at
    article.version += 1
    article.updated_by = actor
    article.updated_at = at
    article.save()
    _revision(article, actor=actor, at=at, event="archived")
    return article


@transaction.atomic
def article_restore(
    *, article: Article, actor: Actor, expected_version: int | None = None, at: datetime | None = None
) -> Article:
    at = at or timezone.now()
    article = _lock(article, expected_version)
    if not article.is_archived:
        raise DomainError(f"{article.key} is not archived.", code="article_not_archived")
    article.archived_at = None
    article.version += 1
    article.updated_by = actor
    article.updated_at = at
    article.save()
    _revision(article, actor=actor, at=at, event="restored")
    return article


# The names other apps were given (issue 17): the same functions.
create_article = article_create
update_article = article_update
