"""Finding incidents by words: the stored search vector and the match shared by the list's
`search` filter (the API and the queue) and the global search.

PostgreSQL (production, the tests): every incident keeps a weighted `tsvector`
(`Incident.search_vector`: key and title A, description and contact B, comments C) with a
GIN index, written by SQL only, by the incident services (creation, an edit of the title,
description or contact, every comment) and set-based by the seeds. A search is split into
terms (words, or "quoted phrases"); every term must match one of

- the words of the incident (full-text, English stemming: "loops" finds "loop"),
- its key ("INC-1030", or the number "1030"),
- the name of its customer, the name or address of its requester, or the name of its
  assignee, by trigram word similarity (pg_trgm), so "Contosso" still finds Contoso Retail.

Each alternative is an indexed predicate (the names are looked up first in their small
tables, `= ANY(ARRAY(subquery))`), so PostgreSQL answers from the indexes at a million rows.
A term that is only stop words ("on", "the") is ignored.

SQLite (the embedded default, `./scripts/run`) has neither: every term must be contained
(case-insensitively) in the key, title, description, contact, a comment, or one of those
names. Laptop volumes make that fast enough; stems and typos are PostgreSQL's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact

from accounts.models import User
from org.models import Contact, Customer

from .models import Comment, Incident

CONFIG = "english"
MAX_TERMS = 8
# Per term and kind, the names considered (a term like "a" must not pull in every row).
MAX_NAME_MATCHES = 50
# What of a long text goes into the vector (a tsvector holds at most 1 MB).
MAX_TEXT = 100_000

_TERM = re.compile(r'"([^"]+)"|(\S+)')
_KEY = re.compile(r"^[A-Za-z]{2,10}-\d+$")
_NUMBER = re.compile(r"^\d{2,}$")
# "INC-1030" is indexed as the words "inc" and "1030" (PostgreSQL's parser would read
# "-1030" as a negative number), so a term's hyphen before digits is read the same way.
_HYPHEN_DIGIT = re.compile(r"(?<=\w)-(?=\d)")
_EDGE_PUNCTUATION = " \t,;:!?()[]{}<>'\""

TABLE = Incident._meta.db_table

# The vector of incident row `{t}`, in SQL (the services' refresh, the migration's
# backfill and the benchmark seed write the same expression).
VECTOR_SQL = (
    "setweight(to_tsvector('english', replace({t}.key, '-', ' ') || ' ' || {t}.title), 'A')"
    " || setweight(to_tsvector('english', left({t}.description, 100000) || ' ' || {t}.contact), 'B')"
    " || setweight(to_tsvector('english', coalesce(("
    "SELECT left(string_agg(c.body, ' ' ORDER BY c.id), 200000)"
    " FROM incidents_comment c WHERE c.incident_id = {t}.id), '')), 'C')"
)
# The indexes a search uses, PostgreSQL only (SQLite cannot build them): the migration makes
# them; a bulk seed may drop them and make them again after its inserts.
INDEXES = {
    "incident_search_vector": "search_vector",
    "incident_key_trgm": "key gin_trgm_ops",
}


def index_sql(name: str) -> str:
    return f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} USING gin ({INDEXES[name]})"


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


# ------------------------------------------------------------------ keeping the vector
def vector_refresh(incident_ids: Iterable[int]) -> None:
    """Recompute the vectors of these incidents from their fields and comments."""
    ids = [int(i) for i in incident_ids]
    if not ids or not is_postgresql():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} i SET search_vector = {VECTOR_SQL.format(t='i')} WHERE i.id = ANY(%s)",  # noqa: S608
            [ids],
        )


def vector_add_comment(comment: Comment) -> None:
    """Add a new comment's words to its incident's vector (weight C), without re-reading
    the incident's other comments."""
    if not is_postgresql():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET search_vector = coalesce(search_vector, ''::tsvector)"  # noqa: S608
            " || setweight(to_tsvector('english', left(%s, %s)), 'C') WHERE id = %s",
            [comment.body, MAX_TEXT, comment.incident_id],
        )


def forget_loaded_vector(incident: Incident) -> None:
    """The vector was written by SQL: leave it unloaded on the instance, so a later save()
    of it does not write the stale value back (a save of a deferred field skips it)."""
    incident.__dict__.pop("search_vector", None)


# ------------------------------------------------------------------ reading the terms
def search_terms(text: str | None) -> list[str]:
    """The terms of a search: words, or "quoted phrases", punctuation around them dropped."""
    terms = []
    for phrase, word in _TERM.findall(text or ""):
        term = (phrase or word).strip(_EDGE_PUNCTUATION)
        if term:
            terms.append(term)
    return terms[:MAX_TERMS]


def _key_term(term: str) -> str | None:
    """The key a term names ("inc-1030" -> "INC-1030"), or None."""
    return term.upper() if _KEY.match(term) else None


def _query(term: str) -> SearchQuery:
    text = _HYPHEN_DIGIT.sub(" ", term)
    search_type = "phrase" if " " in term.strip() else "plain"
    return SearchQuery(text, config=CONFIG, search_type=search_type)


class InArray(Func):
    """`<column> = ANY(ARRAY(<subquery>))`: the subquery runs once (an InitPlan) and the
    column's index answers the array, even inside an OR with other indexed predicates
    (a plain `IN (subquery)` there becomes a per-row filter)."""

    output_field = BooleanField()
    arity = 2

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        column, subquery = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        subquery_sql, subquery_params = compiler.compile(subquery)
        return f"{column_sql} = ANY(ARRAY{subquery_sql})", [*column_params, *subquery_params]


def _similar(field: str, term: str) -> Q:
    return Q(TrigramWordSimilar(F(field), Value(term)))


def customers_named(term: str) -> QuerySet[Customer, Any]:
    return Customer.objects.filter(_similar("name", term)).order_by().values("id")[:MAX_NAME_MATCHES]


def contacts_named(term: str) -> QuerySet[Contact, Any]:
    matches = _similar("name", term) | _similar("email", term)
    if "@" in term:
        matches |= Q(email=term.lower())
    return Contact.objects.filter(matches).order_by().values("id")[:MAX_NAME_MATCHES]


def users_named(term: str) -> QuerySet[User, Any]:
    matches = _similar("first_name", term) | _similar("last_name", term) | _similar("username", term)
    return User.objects.filter(matches).order_by().values("id")[:MAX_NAME_MATCHES]


def _name_arms(term: str) -> list[Q]:
    return [
        Q(InArray(F("customer_id"), Subquery(customers_named(term)))),
        Q(InArray(F("requester_id"), Subquery(contacts_named(term)))),
        Q(InArray(F("assignee_id"), Subquery(users_named(term)))),
    ]


def _key_arm(term: str) -> Q | None:
    key = _key_term(term)
    if key:
        return Q(key=key)
    if _NUMBER.match(term):
        # "1030" is the number of INC-1030 and REQ-1030 (and of no longer key): the
        # trigram index on the key answers the pattern.
        return Q(key__endswith=f"-{term}")
    return None


def _only_stop_words(term: str) -> Exact:
    """True when the term has no searchable word (PostgreSQL folds this constant)."""
    return Exact(Func(_query(term), function="numnode", output_field=IntegerField()), 0)


def _term_match_postgresql(term: str) -> Q:
    arms = Q(search_vector=_query(term))
    key = _key_arm(term)
    if key is not None:
        arms |= key
    for arm in _name_arms(term):
        arms |= arm
    return arms


def _match_postgresql(terms: list[str]) -> Q:
    condition = Q()
    for term in terms:
        condition &= Q(_only_stop_words(term)) | _term_match_postgresql(term)
    # A search of stop words alone ("the") finds only what names or keys match.
    searchable = Q(Exact(Func(_query(" ".join(terms)), function="numnode", output_field=IntegerField()), 0))
    names_or_keys = Q(pk__in=[])
    for term in terms:
        key = _key_arm(term)
        for arm in [*_name_arms(term), *([key] if key is not None else [])]:
            names_or_keys |= arm
    return condition & (~searchable | names_or_keys)


def _match_sqlite(terms: list[str]) -> Q:
    condition = Q()
    for term in terms:
        comments = Comment.objects.filter(incident=OuterRef("pk"), body__icontains=term)
        condition &= (
            Q(key__icontains=term)
            | Q(title__icontains=term)
            | Q(description__icontains=term)
            | Q(contact__icontains=term)
            | Q(customer__name__icontains=term)
            | Q(requester__name__icontains=term)
            | Q(requester__email__icontains=term)
            | Q(assignee__first_name__icontains=term)
            | Q(assignee__last_name__icontains=term)
            | Q(assignee__username__icontains=term)
            | Q(Exists(comments))
        )
    return condition


def incident_search(qs: QuerySet[Incident], text: str | None) -> QuerySet[Incident]:
    """The incidents of `qs` matching every term of `text` (all of `qs` for no terms)."""
    terms = search_terms(text)
    if not terms:
        return qs
    if is_postgresql():
        return qs.filter(_match_postgresql(terms))
    return qs.filter(_match_sqlite(terms))


def relevance(text: str | None) -> Combinable:
    """How well an incident matches `text`, higher first: its key named exactly, then the
    full-text rank of its words (any term counts), then a name match."""
    terms = search_terms(text)
    if not terms:
        return Value(0.0, output_field=FloatField())
    keys = [k for k in (_key_term(t) for t in terms) if k]
    exact_key: Combinable = (
        Case(When(key__in=keys, then=Value(10.0)), default=Value(0.0), output_field=FloatField())
        if keys
        else Value(0.0, output_field=FloatField())
    )
    if not is_postgresql():
        return exact_key
    query = _query(terms[0])
    for term in terms[1:]:
        query = query | _query(term)
    names: Q = Q(pk__in=[])
    for term in terms:
        for arm in _name_arms(term):
            names |= arm
    name_bonus = Case(When(names, then=Value(0.5)), default=Value(0.0), output_field=FloatField())
    # normalization 32: rank / (rank + 1), so a rank stays below the key's bonus
    rank = Coalesce(SearchRank(F("search_vector"), query, normalization=Value(32)), Value(0.0))
    return exact_key + rank + name_bonus
