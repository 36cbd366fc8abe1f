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

Each alternative is an indexed predicate: the names are looked up first, in one query over
their small tables' trigram indexes, and go into the incident query as constant id lists
(`prepare`), so PostgreSQL estimates every predicate from its statistics and answers a rare
word from the GIN index and a common one by walking the list's sort order, at a million rows.
A term that is only stop words ("on", "the") is ignored.

SQLite (the embedded default, `./scripts/run`) has neither: every term must be contained
(case-insensitively) in the key, title, description, contact, a comment, or one of those
names. Laptop volumes make that fast enough; stems and typos are PostgreSQL's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import Combinable, RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact

from accounts.models import User
from org.models import Contact, Customer

from .models import Comment, Incident

CONFIG = "english"
MAX_TERMS = 8
# Per term and kind, the names considered (a term like "a" must not pull in every row).
MAX_NAME_MATCHES = 50
# A search matching at most this many incidents is read by their ids (incident_search).
PROBE_LIMIT = 1000
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


def _vector_sql(*, key: str, title: str, description: str, contact: str, comments: str) -> str:
    """An incident's weighted vector in SQL, from SQL expressions of its texts."""
    return (
        f"setweight(to_tsvector('english', replace({key}, '-', ' ') || ' ' || {title}), 'A')"
        f" || setweight(to_tsvector('english', left({description}, {MAX_TEXT}) || ' ' || {contact}), 'B')"
        f" || setweight(to_tsvector('english', coalesce(({comments}), '')), 'C')"
    )


# The vector of incident row `{t}`, in SQL (the services' refresh, the migration's
# backfill and the benchmark seed write the same expression).
VECTOR_SQL = _vector_sql(
    key="{t}.key",
    title="{t}.title",
    description="{t}.description",
    contact="{t}.contact",
    comments="SELECT left(string_agg(c.body, ' ' ORDER BY c.id), 200000)"
    " FROM incidents_comment c WHERE c.incident_id = {t}.id",
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


def new_incident_vector(*, key: str, title: str, description: str, contact: str) -> RawSQL | None:
    """The vector a new incident (no comments yet) is inserted with: VECTOR_SQL over the
    values it is created with, so the insert writes it (a later UPDATE would write the new
    row, and every index of it, a second time). None where there is no vector (SQLite)."""
    if not is_postgresql():
        return None
    sql = _vector_sql(key="%s", title="%s", description="%s", contact="%s", comments="NULL")
    return RawSQL(sql, (key, title, description, contact))  # noqa: S611 - values are params


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


def _similar(field: str, term: str) -> Q:
    return Q(TrigramWordSimilar(F(field), Value(term)))


def customers_named(term: str) -> Q:
    return _similar("name", term)


def contacts_named(term: str) -> Q:
    matches = _similar("name", term) | _similar("email", term)
    if "@" in term:
        matches |= Q(email=term.lower())
    return matches


def users_named(term: str) -> Q:
    return _similar("first_name", term) | _similar("last_name", term) | _similar("username", term)


# The incident's columns a name of each kind is matched through.
NAME_COLUMNS = {"customer": "customer_id", "contact": "requester_id", "user": "assignee_id"}


@dataclass(frozen=True)
class Search:
    """A search read once: its terms and, on PostgreSQL, the ids of the customers, contacts
    and users each term names (looked up in one query, in those small tables' trigram
    indexes). The ids go into the incident query as constants, so PostgreSQL estimates
    each predicate from its statistics: a word that names nobody adds no name predicate,
    and a rare word is read from its index instead of walking the list's sort order."""

    terms: tuple[str, ...]
    names: dict[int, dict[str, tuple[int, ...]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.terms)


def prepare(text: str | Search | None) -> Search:
    if isinstance(text, Search):
        return text
    terms = tuple(search_terms(text if isinstance(text, str) else None))
    if not terms or not is_postgresql():
        return Search(terms)
    parts: list[QuerySet[Any, Any]] = []
    for i, term in enumerate(terms):
        for kind, model, condition in (
            ("customer", Customer, customers_named(term)),
            ("contact", Contact, contacts_named(term)),
            ("user", User, users_named(term)),
        ):
            parts.append(
                model._default_manager.filter(condition)
                .order_by()
                .annotate(kind=Value(kind), term=Value(i))
                .values_list("kind", "term", "id")[:MAX_NAME_MATCHES]
            )
    names: dict[int, dict[str, list[int]]] = {}
    for kind, i, pk in parts[0].union(*parts[1:], all=True):
        names.setdefault(i, {}).setdefault(kind, []).append(pk)
    return Search(terms, {i: {k: tuple(v) for k, v in kinds.items()} for i, kinds in names.items()})


def _name_arms(search: Search, i: int) -> list[Q]:
    return [
        Q(**{f"{NAME_COLUMNS[kind]}__in": ids})
        for kind, ids in sorted(search.names.get(i, {}).items())
        if ids
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


# A term's estimated matches from PostgreSQL's statistics of the vector column: the most
# common lexemes and their frequencies (ANALYZE keeps them), times the table's rows. None
# when a lexeme is not among them (rarer than the statistics can tell) or nothing is known.
_ESTIMATE_SQL = f"""
    SELECT min(f.freqs[array_position(f.elems, q.lexeme)] * c.reltuples), bool_and(
        array_position(f.elems, q.lexeme) IS NOT NULL)
    FROM unnest(tsvector_to_array(to_tsvector(%s::regconfig, %s))) AS q(lexeme)
    CROSS JOIN (
        SELECT most_common_elems::text::text[] AS elems, most_common_elem_freqs AS freqs
        FROM pg_stats
        WHERE schemaname = current_schema() AND tablename = '{TABLE}' AND attname = 'search_vector'
    ) f
    CROSS JOIN (SELECT reltuples FROM pg_class WHERE oid = '{TABLE}'::regclass) c
"""  # noqa: S608 - the table name is a code constant; the term is a parameter


def common_word(search: Search) -> bool:
    """True when a one-term search is a word PostgreSQL's statistics count in well over
    PROBE_LIMIT incidents: incident_search then needs no probe to know the page walks the
    list's order (the probe reads PROBE_LIMIT + 1 matches, a tenth of a common word's page
    time at a million incidents). Several terms are never taken for common (their
    conjunction may be rare)."""
    if len(search.terms) != 1 or not is_postgresql():
        return False
    with connection.cursor() as cursor:
        cursor.execute(_ESTIMATE_SQL, [CONFIG, _HYPHEN_DIGIT.sub(" ", search.terms[0])])
        estimate, all_known = cursor.fetchone()
    return bool(all_known) and estimate is not None and estimate > 3 * PROBE_LIMIT


def _only_stop_words(term: str) -> Exact:
    """True when the term has no searchable word (PostgreSQL folds this constant)."""
    return Exact(Func(_query(term), function="numnode", output_field=IntegerField()), 0)


def _match_postgresql(search: Search) -> Q:
    condition = Q()
    names_or_keys = Q(pk__in=[])
    for i, term in enumerate(search.terms):
        arms = Q(search_vector=_query(term))
        others = _name_arms(search, i)
        key = _key_arm(term)
        if key is not None:
            others.append(key)
        for arm in others:
            arms |= arm
            names_or_keys |= arm
        condition &= Q(_only_stop_words(term)) | arms
    # A search of stop words alone ("the") finds only what names or keys match.
    only_stop_words = Q(_only_stop_words(" ".join(search.terms)))
    return condition & (~only_stop_words | names_or_keys)


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


def incident_search(qs: QuerySet[Incident], text: str | Search | None) -> QuerySet[Incident]:
    """The incidents of `qs` matching every term of `text` (all of `qs` for no terms)."""
    search = prepare(text)
    if not search:
        return qs
    if not is_postgresql():
        return qs.filter(_match_sqlite(list(search.terms)))
    match = _match_postgresql(search)
    # How many match at all, up to PROBE_LIMIT (a cheap read: the GIN index for a rare word,
    # a short scan for a common one). A few: the page reads them by id. Many: the page keeps
    # the predicate and walks the list's sort index, stopping at a page's worth. PostgreSQL
    # cannot tell a rare word from a middling one (a word outside its statistics' most
    # common ones is guessed at 0.5 % of the rows), and walking the sort index for a word
    # that 30 rows of a million hold reads the whole index.
    # A word the statistics count in many thousands needs no probe (common_word).
    if common_word(search):
        return qs.filter(match)
    ids = list(Incident.objects.filter(match).order_by().values_list("pk", flat=True)[: PROBE_LIMIT + 1])
    if len(ids) <= PROBE_LIMIT:
        return qs.filter(pk__in=ids)
    return qs.filter(match)


def relevance(text: str | Search | None) -> Combinable:
    """How well an incident matches `text`, higher first: its key named exactly, then the
    full-text rank of its words (any term counts), then a name match."""
    search = prepare(text)
    terms = search.terms
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
    names = Q(pk__in=[])
    for i in range(len(terms)):
        for arm in _name_arms(search, i):
            names |= arm
    name_bonus = Case(When(names, then=Value(0.5)), default=Value(0.0), output_field=FloatField())
    # normalization 32: rank / (rank + 1), so a rank stays below the key's bonus
    rank = Coalesce(SearchRank(F("search_vector"), query, normalization=Value(32)), Value(0.0))
    return exact_key + rank + name_bonus
