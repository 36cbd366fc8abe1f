"""One search over every kind of record: incidents, cards, problems, articles, customers and
contacts, best match first.

Each kind has a source: who may see it (the kind's own permission predicate), and one query
that finds and scores its best matches. Incidents use the stored, indexed vector and the
list's own match (incidents.search); the other kinds are far fewer rows and build their
vector at query time. Names (customers, contacts) are matched by trigram word similarity
(pg_trgm), so a typo within reach still finds them. Scores are comparable across kinds: an
exact key is 10, a full-text rank is below 1 (rank / (rank + 1)), an incident found by its
customer's or people's names gets 0.5, a name's similarity is 0..1 (1 for the whole word).

SQLite (the embedded default) matches every term as a substring and scores by kind and
recency; stems, typos and highlighted snippets are PostgreSQL's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramWordSimilarity,
)
from django.db.models import Case, F, FloatField, Q, QuerySet, Subquery, Value, When
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from boards.models import Card
from boards.permissions import can_read_boards
from incidents.models import Comment, Incident
from incidents.permissions import can_view_incidents
from incidents.search import (
    CONFIG,
    incident_search,
    is_postgresql,
    prepare,
    relevance,
    search_terms,
)
from knowledge.models import Article
from knowledge.permissions import can_view_articles
from org.models import Contact, Customer
from org.permissions import can_view_contacts
from problems.models import Problem
from problems.permissions import can_view_problems

# Results of one kind in the mixed list, and when the search asks for one kind only.
PER_KIND = 8
ONE_KIND = 30
# The most recent matching incidents ranked (a common word matches a large share of a
# million; ranking them all would read every one).
INCIDENT_CANDIDATES = 300
SNIPPET_WORDS = 30

# Highlight marks ts_headline puts around matched words; control characters no text has,
# turned into <mark> after the snippet is escaped.
START, STOP = "\x02", "\x03"


@dataclass(frozen=True)
class SearchResult:
    type: str
    id: int
    key: str
    title: str
    snippet: SafeString
    url: str
    score: float
    # The title with its matched words in <mark> (the page); the API gives the plain title.
    title_html: SafeString = mark_safe("")  # noqa: S308 - empty

    @property
    def display_title(self) -> SafeString:
        return self.title_html or highlighted(self.title)


@dataclass(frozen=True)
class Kind:
    name: str  # the contract's type
    label: str
    can_view: Callable[[Any], bool]
    find: Callable[[list[str], int], list[SearchResult]]


# ------------------------------------------------------------------ text helpers
def highlighted(text: str | None) -> SafeString:
    """A snippet as HTML: everything escaped, the headline's marks made <mark>."""
    html = str(escape(text or ""))
    return mark_safe(html.replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S308 - escaped above


def marked_title(row: Any) -> SafeString:
    """The title with its matched words marked, when the headline kept the title's text
    (ts_headline drops what its parser reads as markup; then the plain title is shown)."""
    headline = getattr(row, "title_headline", None) or ""
    if headline.replace(START, "").replace(STOP, "") == row.title:
        return highlighted(headline)
    return highlighted(row.title)


def plain_snippet(text: str | None, words: int = SNIPPET_WORDS) -> SafeString:
    return highlighted(Truncator(" ".join((text or "").split())).words(words))


def _query(terms: Sequence[str]) -> SearchQuery:
    """Any term's words (for ranking and highlighting; matching asks for every term)."""
    query = SearchQuery(terms[0], config=CONFIG)
    for term in terms[1:]:
        query = query | SearchQuery(term, config=CONFIG)
    return query


def _headline(expression: Any, query: SearchQuery) -> SearchHeadline:
    return SearchHeadline(
        expression,
        query,
        config=CONFIG,
        start_sel=START,
        stop_sel=STOP,
        max_words=SNIPPET_WORDS,
        min_words=12,
        max_fragments=2,
        fragment_delimiter=" … ",
    )


def _title_headline(query: SearchQuery) -> SearchHeadline:
    """The whole title, its matched words marked."""
    return SearchHeadline("title", query, config=CONFIG, start_sel=START, stop_sel=STOP, highlight_all=True)


def _every_term(terms: Sequence[str], fields: Sequence[str]) -> Q:
    """SQLite: every term is contained in one of the fields."""
    condition = Q()
    for term in terms:
        any_field = Q(pk__in=[])
        for field in fields:
            any_field |= Q(**{f"{field}__icontains": term})
        condition &= any_field
    return condition


def _key_terms(terms: Sequence[str]) -> list[str]:
    return [t.upper() for t in terms if "-" in t and any(ch.isdigit() for ch in t)]


# ------------------------------------------------------------------ incidents
def _incidents(terms: list[str], limit: int) -> list[SearchResult]:
    text = prepare(" ".join(f'"{t}"' if " " in t else t for t in terms))
    matching = incident_search(Incident.objects.order_by(), text)
    rows: list[Any]
    if is_postgresql():
        candidates = matching.order_by("-created_at", "-id").values("pk")[:INCIDENT_CANDIDATES]
        query = _query(terms)
        rows = list(
            Incident.objects.filter(pk__in=Subquery(candidates))
            .annotate(
                score=relevance(text),
                headline=_headline("description", query),
                title_headline=_title_headline(query),
            )
            .only("id", "key", "title", "description", "created_at")
            .order_by("-score", "-created_at", "-id")[:limit]
        )
        # Found by a comment's words: the snippet shows that comment.
        from_comments = [r.pk for r in rows if START not in (r.headline or "")]
        comments = _comment_headlines(from_comments, query) if from_comments else {}
        snippets = {r.pk: comments.get(r.pk) or r.headline for r in rows}
    else:
        rows = list(
            matching.only("id", "key", "title", "description", "created_at").order_by("-created_at", "-id")[
                :limit
            ]
        )
        keys = set(_key_terms(terms))
        rows.sort(key=lambda r: r.key not in keys)
        snippets = {r.pk: Truncator(r.description).words(SNIPPET_WORDS) for r in rows}
    return [
        SearchResult(
            type="incident",
            id=r.pk,
            key=r.key,
            title=r.title,
            title_html=marked_title(r),
            snippet=highlighted(snippets[r.pk]),
            url=reverse("incidents:detail", args=[r.key]),
            score=float(getattr(r, "score", 0.4)),
        )
        for r in rows
    ]


def _comment_headlines(incident_ids: list[int], query: SearchQuery) -> dict[int, str]:
    """The first matching comment of each incident, highlighted (one query)."""
    rows = (
        Comment.objects.filter(incident_id__in=incident_ids)
        .annotate(vector=SearchVector("body", config=CONFIG))
        .filter(vector=query)
        .annotate(headline=_headline("body", query))
        .order_by("incident_id", "id")
        .values_list("incident_id", "headline")
    )
    found: dict[int, str] = {}
    for incident_id, headline in rows:
        found.setdefault(incident_id, f"Comment: {headline}")
    return found


# ------------------------------------------------------------------ cards, problems, articles
def _by_words(
    qs: QuerySet[Any], *, vector: Any, terms: list[str], limit: int, snippet_field: str, fields: Sequence[str]
) -> list[Any]:
    """Rows whose vector (a stored field's name or a query-time SearchVector) matches every
    term, or whose key is a term; scored by rank, an exact key first, with a headline."""
    keys = _key_terms(terms)
    if not is_postgresql():
        exact_first = Case(When(key__in=keys, then=Value(0)), default=Value(1))
        rows = qs.filter(_every_term(terms, ("key", *fields))).order_by(exact_first, "-id")[:limit]
        return [_with(r, score=(10.0 if r.key in keys else 0.3)) for r in rows]
    if not isinstance(vector, str):
        qs = qs.annotate(search_words=vector)
        vector = "search_words"
    condition = Q()
    for term in terms:
        # Keys are written upper case: an exact match keeps the key's unique index usable
        # next to the words' GIN index (UPPER(key) would make PostgreSQL read every row).
        condition &= Q(**{vector: SearchQuery(term, config=CONFIG)}) | Q(key__in={term, term.upper()})
    query = _query(terms)
    exact_key = Case(When(key__in=keys, then=Value(10.0)), default=Value(0.0), output_field=FloatField())
    rank = Coalesce(SearchRank(F(vector), query, normalization=Value(32)), Value(0.0))
    return list(
        qs.filter(condition)
        .annotate(
            score=rank + exact_key,
            headline=_headline(snippet_field, query),
            title_headline=_title_headline(query),
        )
        .order_by("-score", "-id")[:limit]
    )


def _with(row: Any, **values: Any) -> Any:
    vars(row).update(values)
    return row


def _snippet(row: Any, field: str) -> SafeString:
    headline = getattr(row, "headline", None)
    return highlighted(headline) if headline else plain_snippet(getattr(row, field))


def card_search_vector() -> CombinedExpression:
    """A card's words as the cards' GIN index holds them (boards migration 0007 builds the
    index from this same expression; a different one would read every card)."""
    return SearchVector("key", "title", weight="A", config=CONFIG) + SearchVector(
        "description", weight="B", config=CONFIG
    )


def _cards(terms: list[str], limit: int) -> list[SearchResult]:
    vector = card_search_vector()
    qs = Card.objects.order_by().only("id", "key", "title", "description")
    rows = _by_words(qs, vector=vector, terms=terms, limit=limit, snippet_field="description",
                     fields=("title", "description"))  # fmt: skip
    return [
        SearchResult(
            type="card",
            id=r.pk,
            key=r.key,
            title=r.title,
            title_html=marked_title(r),
            snippet=_snippet(r, "description"),
            url=reverse("boards:card", args=[r.pk]),
            score=float(r.score),
        )
        for r in rows
    ]


def _problems(terms: list[str], limit: int) -> list[SearchResult]:
    vector = (
        SearchVector("key", "title", weight="A", config=CONFIG)
        + SearchVector("description", weight="B", config=CONFIG)
        + SearchVector("root_cause", "workaround", weight="C", config=CONFIG)
    )
    qs = Problem.objects.order_by().only("id", "key", "title", "description", "workaround", "status")
    rows = _by_words(qs, vector=vector, terms=terms, limit=limit, snippet_field="description",
                     fields=("title", "description", "root_cause", "workaround"))  # fmt: skip
    return [
        SearchResult(
            type="problem",
            id=r.pk,
            key=r.key,
            title=r.title,
            title_html=marked_title(r),
            snippet=_snippet(r, "description"),
            url=reverse("problems:detail", args=[r.key]),
            score=float(r.score),
        )
        for r in rows
    ]


def _articles(terms: list[str], limit: int) -> list[SearchResult]:
    qs = Article.objects.filter(archived_at__isnull=True).order_by().only("id", "key", "title", "body")
    rows = _by_words(qs, vector="search_vector", terms=terms, limit=limit, snippet_field="body",
                     fields=("title", "body"))  # fmt: skip
    return [
        SearchResult(
            type="article",
            id=r.pk,
            key=r.key,
            title=r.title,
            title_html=marked_title(r),
            snippet=_snippet(r, "body"),
            url=reverse("knowledge:detail", args=[r.key]),
            score=float(r.score),
        )
        for r in rows
    ]


# ------------------------------------------------------------------ customers and contacts
def _customers(terms: list[str], limit: int) -> list[SearchResult]:
    text = " ".join(terms)
    rows: list[Any]
    if is_postgresql():
        rows = list(
            Customer.objects.filter(Q(TrigramWordSimilar(F("name"), Value(text))))
            .annotate(score=TrigramWordSimilarity(text, "name"))
            .order_by("-score", "name")[:limit]
        )
    else:
        rows = list(Customer.objects.filter(_every_term(terms, ("name",))).order_by("name")[:limit])
    return [
        SearchResult(
            type="customer",
            id=r.pk,
            key="",
            title=r.name,
            snippet=plain_snippet(", ".join(r.email_domains or [])),
            url=reverse("customers:detail", args=[r.pk]),
            score=float(getattr(r, "score", 0.9)),
        )
        for r in rows
    ]


def _contacts(terms: list[str], limit: int) -> list[SearchResult]:
    text = " ".join(terms)
    qs = Contact.objects.select_related("customer")
    rows: list[Any]
    if is_postgresql():
        rows = list(
            qs.filter(
                Q(TrigramWordSimilar(F("name"), Value(text)))
                | Q(TrigramWordSimilar(F("email"), Value(text)))
                | Q(email=text.lower())
            )
            .annotate(
                score=Greatest(
                    TrigramWordSimilarity(text, "name"),
                    Coalesce(TrigramWordSimilarity(text, "email"), Value(0.0)),
                )
            )
            .order_by("-score", "name", "id")[:limit]
        )
    else:
        rows = list(qs.filter(_every_term(terms, ("name", "email"))).order_by("name", "id")[:limit])
    return [
        SearchResult(
            type="contact",
            id=r.pk,
            key="",
            title=r.name,
            snippet=plain_snippet(f"{r.email} · {r.customer.name}"),
            url=reverse("customers:detail", args=[r.customer_id]) + "#contacts-h",
            score=float(getattr(r, "score", 0.8)),
        )
        for r in rows
    ]


KINDS: tuple[Kind, ...] = (
    Kind("incident", "Incidents", can_view_incidents, _incidents),
    Kind("problem", "Problems", can_view_problems, _problems),
    Kind("article", "Articles", can_view_articles, _articles),
    Kind("card", "Cards", can_read_boards, _cards),
    Kind("customer", "Customers", can_view_contacts, _customers),
    Kind("contact", "Contacts", can_view_contacts, _contacts),
)
KIND_NAMES = tuple(k.name for k in KINDS)


def kinds_for(user: Any) -> list[Kind]:
    return [k for k in KINDS if k.can_view(user)]


def global_search(*, user: Any, text: str | None, kind: str | None = None) -> list[SearchResult]:
    """The best matches of every kind the user may see (or of `kind` only), best first; one
    query per kind (two for incidents found by a comment), whatever the row counts."""
    terms = search_terms(text)
    if not terms:
        return []
    results: list[SearchResult] = []
    for source in kinds_for(user):
        if kind and source.name != kind:
            continue
        results += source.find(terms, ONE_KIND if kind else PER_KIND)
    results.sort(key=lambda r: -r.score)
    return results


def result_dict(result: SearchResult) -> dict[str, object]:
    return {
        "type": result.type,
        "id": result.id,
        "key": result.key,
        "title": result.title,
        "snippet": str(result.snippet),
        "url": result.url,
    }
