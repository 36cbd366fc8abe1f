"""Reads of problems: the filtered list, one problem with its incidents, its timeline, the
known errors and incidents that look like a new one, and the manager's top problems."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Field,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from incidents.models import OPEN_STATUSES, Incident, TimeEntry
from incidents.search import CONFIG as SEARCH_CONFIG
from incidents.search import is_postgresql
from knowledge.hooks import ProblemRef

from .models import OPEN_PROBLEM_STATUSES, Problem, ProblemEvent, ProblemIncident, ProblemStatus

PROBLEM_SORTS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "incidents": "Most incidents",
    "updated": "Recently updated",
}


def problem_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Problem]:
    """Problems with what a list row shows (owner, service, card and its column, the count of
    incidents and open incidents, the most urgent open priority) in one query."""
    filters = filters or {}
    qs = Problem.objects.select_related("owner", "service", "card__column").annotate(
        incident_count=Count("incident_links", distinct=True),
        open_incident_count=Count(
            "incident_links", filter=Q(incident_links__incident__status__in=OPEN_STATUSES), distinct=True
        ),
        top_priority=Min(
            "incident_links__incident__priority", filter=Q(incident_links__incident__status__in=OPEN_STATUSES)
        ),
    )
    status = filters.get("status") or ""
    if status == "open":
        qs = qs.filter(status__in=OPEN_PROBLEM_STATUSES)
    elif status in ProblemStatus.values:
        qs = qs.filter(status=status)
    if filters.get("service"):
        qs = qs.filter(service_id=filters["service"])
    if filters.get("owner") == "none":
        qs = qs.filter(owner__isnull=True)
    elif filters.get("owner"):
        qs = qs.filter(owner_id=filters["owner"])
    if filters.get("known_error"):
        qs = qs.filter(status__in=OPEN_PROBLEM_STATUSES).exclude(workaround="")
    if filters.get("escalated") == "yes":
        qs = qs.filter(card__isnull=False)
    elif filters.get("escalated") == "no":
        qs = qs.filter(card__isnull=True)
    text = str(filters.get("q") or "").strip()
    if text:
        qs = qs.filter(
            Q(key__iexact=text)
            | Q(title__icontains=text)
            | Q(description__icontains=text)
            | Q(workaround__icontains=text)
        )
    return qs


def problem_sort(qs: QuerySet[Problem], sort: str) -> QuerySet[Problem]:
    orderings: dict[str, tuple[Any, ...]] = {
        "oldest": ("created_at", "id"),
        "incidents": ("-incident_count", "-created_at", "-id"),
        "updated": ("-updated_at", "-id"),
    }
    return qs.order_by(*orderings.get(sort, ("-created_at", "-id")))


def problem_get(*, key: str) -> Problem:
    return Problem.objects.select_related(
        "owner", "service__team", "card__column", "card__sprint", "created_by"
    ).get(key__iexact=key)


def problem_incidents(problem: Problem) -> list[Incident]:
    """The problem's incidents, open first and most urgent first, with what a row shows."""
    return list(
        Incident.objects.filter(problem_link__problem=problem)
        .select_related("service", "team", "assignee", "customer")
        .order_by(
            Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1)),
            "priority",
            "created_at",
            "pk",
        )
    )


def problem_timeline(problem: Problem) -> QuerySet[ProblemEvent]:
    return ProblemEvent.objects.filter(problem=problem).select_related("actor").order_by("at", "id")


_PROBLEM_FIELDS: dict[str, Field[Any, Any]] = {
    f.name: f for f in Problem._meta.get_fields() if isinstance(f, Field)
}


def problem_timeline_labelled(problem: Problem) -> list[ProblemEvent]:
    """The timeline for the page: each row also carries `field_label`, `old_label` and
    `new_label` (a status by its name, a field by its verbose name)."""
    statuses = {str(k): str(v) for k, v in ProblemStatus.choices}
    rows = list(problem_timeline(problem))
    for event in rows:
        field = _PROBLEM_FIELDS.get(event.field)
        label = str(field.verbose_name) if field is not None else event.field.replace("_", " ")
        named = event.field == "status"
        vars(event).update(
            field_label=label.capitalize(),
            old_label=statuses.get(event.old, event.old) if named else event.old,
            new_label=statuses.get(event.new, event.new) if named else event.new,
        )
    return rows


def problem_for_incident(incident: Incident) -> Problem | None:
    """The problem the incident belongs to, if any (read once per incident object)."""
    cached: Problem | None | bool = getattr(incident, "_problem", False)
    if cached is False:
        link = (
            ProblemIncident.objects.filter(incident_id=incident.pk)
            .select_related("problem__owner", "problem__card__column")
            .first()
        )
        cached = link.problem if link else None
        incident._problem = cached  # type: ignore[attr-defined]  # a per-object cache, not a field
    return cached if isinstance(cached, Problem) else None


def problem_choices() -> QuerySet[Problem]:
    """Problems an incident may be linked to: those still being worked, newest first."""
    return Problem.objects.filter(status__in=OPEN_PROBLEM_STATUSES).order_by("-created_at", "-id")


# ------------------------------------------------------------------ "looks like" suggestions
STOPWORDS = frozenset(
    (  # noqa: SIM905 - a sentence of words reads better than a 90-item list
        "the and for are but not you all any can had her was one our out has have this that with from "
        "they will would there their what when which who how into than then them these those its it's "
        "also just only very after before again while about does did doing been being were get got "
        "please cannot can't won't dont don't isn't aren't wasn't error issue problem working work "
        "works broken since today yesterday customer customers user users"
    ).split()
)
WORD = re.compile(r"[\w][\w.+#-]*[\w]|\w", re.UNICODE)


def words_of(text: str) -> list[str]:
    """The distinctive words of a text: lower case, three letters or more, no stopwords."""
    seen: dict[str, None] = {}
    for word in WORD.findall((text or "").lower()):
        if len(word) >= 3 and word not in STOPWORDS and not word.isdigit():
            seen.setdefault(word, None)
    return list(seen)


def _score(query: list[str], title: str, body: str) -> float:
    """Word overlap: a query word in the title counts twice, in the rest once, each divided
    by the number of query words (so 1.0+ means every word matched somewhere)."""
    if not query:
        return 0.0
    title_words = set(words_of(title))
    body_words = set(words_of(body))
    hits = 0.0
    for word in query:
        stem = word[:5] if len(word) > 5 else word
        if word in title_words or any(w.startswith(stem) for w in title_words):
            hits += 2
        elif word in body_words or any(w.startswith(stem) for w in body_words):
            hits += 1
    return hits / (2 * len(query))


@dataclass
class Suggestion:
    kind: str  # "known_error" or "incident"
    score: float
    problem: Problem | None = None
    incident: Incident | None = None


MIN_SCORE = 0.25
CANDIDATES = 200


def _word_filter(fields: Iterable[str], words: list[str]) -> Q:
    q = Q()
    for word in words[:8]:
        stem = word[:5] if len(word) > 5 else word
        for name in fields:
            q |= Q(**{f"{name}__icontains": stem})
    return q


def similar_to(
    *,
    service_id: int | None,
    title: str,
    description: str = "",
    exclude_incident: int | None = None,
    limit: int = 5,
) -> dict[str, list[Suggestion]]:
    """Known errors and open incidents that look like a new incident: the same service and
    similar words. Known errors are looked for on every service when none is chosen yet.

    Candidates: open incidents of the service matching any of the words in the search app's
    full-text vector (PostgreSQL; on SQLite a case-insensitive contains of each word's first
    five letters), known errors by that contains. They are then ranked by word overlap (a
    word in the title counts double) and kept above MIN_SCORE."""
    query = words_of(f"{title} {title} {description}")
    if not query:
        return {"known_errors": [], "incidents": []}
    problems = Problem.objects.filter(status__in=OPEN_PROBLEM_STATUSES).exclude(workaround="")
    if service_id:
        problems = problems.filter(
            Q(service_id=service_id) | Q(incident_links__incident__service_id=service_id)
        )
    problems = problems.filter(_word_filter(("title", "description", "workaround", "root_cause"), query))
    known = [
        Suggestion(
            kind="known_error",
            score=_score(query, p.title, f"{p.description} {p.workaround} {p.root_cause}"),
            problem=p,
        )
        for p in problems.distinct().select_related("service").order_by("-created_at")[:CANDIDATES]
    ]
    incidents: list[Suggestion] = []
    if service_id:
        qs = Incident.objects.filter(service_id=service_id, status__in=OPEN_STATUSES)
        if exclude_incident:
            qs = qs.exclude(pk=exclude_incident)
        qs = qs.select_related("customer", "problem_link__problem")
        if is_postgresql():
            # The search app's stored vector (incidents.search): any of the words, stemmed, best
            # ranked first, from the GIN index; the overlap score below then decides.
            words = reduce(or_, (SearchQuery(w, config=SEARCH_CONFIG) for w in query[:12]))
            rank = SearchRank(F("search_vector"), words)
            ranked = qs.filter(search_vector=words).annotate(rank=rank).order_by("-rank", "-created_at")
            rows: list[Incident] = list(ranked[:50])
        else:
            words_q = _word_filter(("title", "description"), query)
            rows = list(qs.filter(words_q).order_by("-created_at")[:CANDIDATES])
        incidents = [
            Suggestion(kind="incident", score=_score(query, i.title, i.description), incident=i) for i in rows
        ]

    def best(items: list[Suggestion]) -> list[Suggestion]:
        return sorted((s for s in items if s.score >= MIN_SCORE), key=lambda s: -s.score)[:limit]

    return {"known_errors": best(known), "incidents": best(incidents)}


# ------------------------------------------------------------------ the manager's view
REPORT_SORTS = {
    "incidents": "Most incidents",
    "customers": "Most customers affected",
    "effort": "Most time logged",
    "outage": "Most incident hours",
    "age": "Oldest",
}


def problem_report(
    *,
    status: str = "open",
    service: int | None = None,
    sort: str = "incidents",
    now: datetime | None = None,
    limit: int = 25,
) -> list[Problem]:
    """Top problems for managers, one query: per problem its linked incidents, open ones,
    distinct customers affected, time logged on its incidents (minutes: the effort they
    cost) and incident hours (each incident's time from logging to resolution, or to now
    while open: how long customers were hurt), and its age."""
    now = now or timezone.now()
    effort = (
        TimeEntry.objects.filter(incident__problem_link__problem=OuterRef("pk"))
        .order_by()
        .values("incident__problem_link__problem")
        .annotate(total=Sum("minutes"))
        .values("total")
    )
    open_for = ExpressionWrapper(
        Coalesce(F("incident_links__incident__resolved_at"), Value(now))
        - F("incident_links__incident__created_at"),
        output_field=DurationField(),
    )
    qs = Problem.objects.select_related("owner", "service", "card__column").annotate(
        incident_count=Count("incident_links", distinct=True),
        open_incident_count=Count(
            "incident_links", filter=Q(incident_links__incident__status__in=OPEN_STATUSES), distinct=True
        ),
        customer_count=Count("incident_links__incident__customer", distinct=True),
        outage=Sum(open_for),
        effort_minutes=Coalesce(Subquery(effort, output_field=IntegerField()), 0),
    )
    if status == "open":
        qs = qs.filter(status__in=OPEN_PROBLEM_STATUSES)
    elif status in ProblemStatus.values:
        qs = qs.filter(status=status)
    if service:
        qs = qs.filter(service_id=service)
    orderings: dict[str, tuple[Any, ...]] = {
        "customers": ("-customer_count", "-incident_count", "created_at"),
        "effort": ("-effort_minutes", "-incident_count", "created_at"),
        "outage": (F("outage").desc(nulls_last=True), "created_at"),
        "age": ("created_at", "id"),
    }
    rows: list[Problem] = list(
        qs.order_by(*orderings.get(sort, ("-incident_count", "-customer_count", "created_at")))[:limit]
    )
    for row in rows:
        outage: timedelta | None = getattr(row, "outage", None)
        # Display values kept on the row for the template.
        vars(row).update(
            outage_hours=round(outage.total_seconds() / 3600, 1) if outage else 0.0,
            age_days=(now - row.created_at).days,
        )
    return rows


def problem_refs(problem_ids: Iterable[int]) -> dict[int, ProblemRef]:
    """knowledge.hooks.problem_refs: how an article made from a known error names its problem."""
    return {
        p.pk: ProblemRef(key=p.key, title=p.title, url=reverse("problems:detail", args=[p.key]))
        for p in Problem.objects.filter(pk__in=list(problem_ids)).only("id", "key", "title")
    }
