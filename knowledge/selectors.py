"""Reads of the knowledge base: the staff list and its search, the reply box's picker, and
the public articles the portal suggests.

Search is word-based. On PostgreSQL it uses the article's stored tsvector (title weight A,
body weight B, English stemming: "loops" finds "loop"; GIN-indexed) and ranks by
`ts_rank`; on SQLite (the embedded default) each word is a case-insensitive substring
match, good enough at laptop sizes. Words are taken from the text as `\\w+` runs, so
nothing a user types reaches a tsquery as syntax.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, FloatField, IntegerField, Q, QuerySet, Value, When

from .models import Article, ArticleRevision, Visibility

MAX_WORDS = 12
# Words too common to suggest anything by (PostgreSQL's English configuration drops these
# and more itself; the SQLite fallback needs them named).
_STOP_TEXT = """
the and for with this that not but are was were you your our can cannot have has had from when
what how why its all any there their they them then than into out about after before again
been being does did doing just get got please thanks hello help
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_KEY = re.compile(r"^\s*KB-(\d+)\s*$", re.IGNORECASE)


def _words(text: str, *, min_length: int = 1) -> list[str]:
    seen: list[str] = []
    for word in re.findall(r"\w+", (text or "").lower()):
        if len(word) >= min_length and word not in seen and not (min_length > 1 and word in STOP_WORDS):
            seen.append(word)
    return seen[:MAX_WORDS]


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _tsquery(words: list[str], *, join: str, prefix_last: bool) -> SearchQuery:
    terms = [f"{w}:*" if prefix_last and i == len(words) - 1 else w for i, w in enumerate(words)]
    return SearchQuery(f" {join} ".join(terms), search_type="raw", config="english")


def _search(qs: QuerySet[Article], text: str, *, any_word: bool, prefix: bool) -> QuerySet[Article]:
    """`qs` narrowed to articles matching `text` and annotated with `rank` (higher first).

    all words (any_word False): every word must occur (the last one as a prefix when
    `prefix`: the picker searches as the agent types); any word: at least one, more
    matches rank higher (suggestions from a customer's description)."""
    key = _KEY.match(text or "")
    if key:
        return qs.filter(key__iexact=f"KB-{key.group(1)}").annotate(
            rank=Value(1.0, output_field=FloatField())
        )
    words = _words(text, min_length=3 if any_word else 1)
    if not words:
        qs = qs.none() if any_word else qs
        return qs.annotate(rank=Value(0.0, output_field=FloatField()))
    if _postgres():
        query = _tsquery(words, join="|" if any_word else "&", prefix_last=prefix and not any_word)
        matches = Q(search_vector=query)
        if not any_word:
            # A title typed as it reads, stop words and all ("how to", "the portal").
            matches |= Q(title__icontains=" ".join(text.split()))
        return qs.filter(matches).annotate(rank=SearchRank(F("search_vector"), query))
    conditions = [Q(title__icontains=w) | Q(body__icontains=w) for w in words]
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = (combined | condition) if any_word else (combined & condition)
    # Titles that match rank above bodies that match.
    score = sum(
        (
            Case(When(title__icontains=w, then=Value(2)), default=Value(0), output_field=IntegerField())
            for w in words
        ),
        start=Value(0, output_field=IntegerField()),
    )
    return qs.filter(combined).annotate(rank=score)


def _base() -> QuerySet[Article]:
    return Article.objects.select_related("service", "author", "updated_by")


def article_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Article]:
    """The staff list. Filters: `q` (words or a key, KB-12), `service` (an id, or "none" for
    articles about every service), `visibility`, `archived` ("1": only archived ones; by
    default archived articles are left out). Best match first when searching, else the
    most recently changed first."""
    filters = filters or {}
    qs = _base()
    if str(filters.get("archived") or "") in ("1", "true", "True"):
        qs = qs.filter(archived_at__isnull=False)
    else:
        qs = qs.filter(archived_at__isnull=True)
    service = str(filters.get("service") or "")
    if service == "none":
        qs = qs.filter(service__isnull=True)
    elif service.isdigit():
        qs = qs.filter(service_id=int(service))
    if filters.get("visibility") in Visibility.values:
        qs = qs.filter(visibility=filters["visibility"])
    text = str(filters.get("q") or "").strip()
    if text:
        return _search(qs, text, any_word=False, prefix=False).order_by("-rank", "-updated_at", "-id")
    return qs.order_by("-updated_at", "-id")


def article_get(*, pk: int) -> Article:
    return _base().get(pk=pk)


def article_revisions(*, article: Article) -> list[ArticleRevision]:
    """Newest first, each with the revision before it as `previous` (None for the first)."""
    revisions = list(article.revisions.select_related("actor", "service").order_by("-number"))
    for newer, older in zip(revisions, [*revisions[1:], None], strict=True):
        newer.previous = older  # type: ignore[attr-defined]  # read by the history page
    return revisions


def articles_for_problem(problem_id: int) -> QuerySet[Article]:
    """Articles made from a problem's workaround (the problem page links to them)."""
    return _base().filter(source_problem_id=problem_id).order_by("created_at", "id")


def article_picker(
    text: str, *, service_id: int | None = None, public_only: bool = False, limit: int = 8
) -> list[Article]:
    """What the reply box's "Insert article" offers: live articles matching every word typed
    (the last as a prefix), the incident's service's articles and those for every service
    first; with nothing typed, that service's most recent ones. `public_only` for a public
    reply: only public articles may go to the customer."""
    qs = _base().filter(archived_at__isnull=True)
    if public_only:
        qs = qs.filter(visibility=Visibility.PUBLIC)
    text = (text or "").strip()
    if service_id is not None:
        qs = qs.annotate(
            service_order=Case(
                When(service_id=service_id, then=Value(0)),
                When(service__isnull=True, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
    else:
        qs = qs.annotate(service_order=Value(0, output_field=IntegerField()))
    if not text:
        if service_id is not None:
            qs = qs.filter(Q(service_id=service_id) | Q(service__isnull=True))
        return list(qs.order_by("service_order", "-updated_at", "-id")[:limit])
    found = _search(qs, text, any_word=False, prefix=True)
    return list(found.order_by("service_order", "-rank", "-updated_at", "-id")[:limit])


def public_articles(*, service_id: int | None = None) -> QuerySet[Article]:
    """Live public articles (for the portal's article pages), newest change first; with a
    service, that service's and those about every service."""
    qs = _base().filter(visibility=Visibility.PUBLIC, archived_at__isnull=True)
    if service_id is not None:
        qs = qs.filter(Q(service_id=service_id) | Q(service__isnull=True))
    return qs.order_by("-updated_at", "-id")


def suggest_public_articles(text: str, *, service_id: int | None = None, limit: int = 5) -> list[Article]:
    """Public articles that look like `text` (what a customer is typing into a new incident
    on the portal): live, public only, sharing at least one word (of three letters or
    more) with `text`, the best match first. With `service_id`, only that service's
    articles and those about every service are offered, the service's own first at an equal
    match.

    PostgreSQL ranks by full-text rank over the stored vector (English stemming, title
    words count more than body words); SQLite by how many words occur in the title. Text
    with no usable word suggests nothing. Never returns internal or archived articles.
    """
    qs = _base().filter(visibility=Visibility.PUBLIC, archived_at__isnull=True)
    if service_id is not None:
        qs = qs.filter(Q(service_id=service_id) | Q(service__isnull=True)).annotate(
            service_order=Case(
                When(service_id=service_id, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
    else:
        qs = qs.annotate(service_order=Value(0, output_field=IntegerField()))
    found = _search(qs, text, any_word=True, prefix=False)
    return list(found.order_by("-rank", "service_order", "-updated_at", "-id")[: max(0, int(limit))])
