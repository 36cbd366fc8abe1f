"""Reads of incidents: lists with a fixed number of queries, the queue, the timeline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from django.db import connection
from django.db.models import F, Field, Manager, Model, Prefetch, Q, QuerySet

from accounts.models import User
from org.models import Customer, Service, Team
from tracker.sql import execute_prepared

from .hooks import clock_reads
from .models import OPEN_STATUSES, Comment, Incident, IncidentEvent
from .search import incident_search, prepare, relevance

SLA_STATES = ("running", "paused", "met", "breached", "at_risk")
QUEUE_TABS = {"mine": "My incidents", "unassigned": "My teams' unassigned", "all": "All"}
QUEUE_SORTS = {
    "sla": "SLA urgency",
    "priority": "Priority",
    "newest": "Newest first",
    "oldest": "Oldest first",
    "updated": "Recently updated",
    "relevance": "Best match (with a search)",
}


def related_objects(relation: str) -> Manager[Any]:
    """A higher app's records by the incident's relation to them (incidents never import it)."""
    model = cast("type[Model]", Incident._meta.get_field(relation).related_model)
    return model._default_manager


# The records a list row names (its service, team, assignee, parent and problem) are read
# by id for the whole page, one small query each, instead of joined: PostgreSQL spent far
# longer planning the nine-table join of the old select_related (13 ms quiet, 150-200 ms on a
# busy machine, EXPLAIN ANALYZE) than running it (under 1 ms) — issue 19.
LIST_RELATIONS = ("service", "team", "assignee", "parent", "problem_link")
# What the incident page and the API's single-incident answers show besides.
DETAIL_RELATIONS = ("customer", "reporter", "requester", "caused_by_card", "caused_by_release", "team__lead")


def incident_list(*, for_detail: bool = False) -> QuerySet[Incident]:
    """Incidents with everything a list row or the API shows, in a fixed number of queries."""
    # The SLA clocks and the board cards belong to higher apps: reached through their
    # reverse relations, the clocks' prefetch given by the SLA app (hooks.clock_reads).
    # The problem it belongs to is the problems app's one-to-one link row (problem_link).
    card_links = related_objects("card_links")
    qs = Incident.objects.prefetch_related(
        *LIST_RELATIONS,
        clock_reads().timers_prefetch(),
        "cc",
        Prefetch(
            "card_links",
            queryset=card_links.select_related("card__column", "card__assignee").order_by("id"),
        ),
        "participants",
    )
    if for_detail:
        qs = qs.prefetch_related(*DETAIL_RELATIONS)
    return qs


# The columns a list row shows (IncidentListSerializer): not the stored search vector, which
# is the widest column and was read, parsed and dropped for every row.
LIST_COLUMNS = (
    "id", "key", "type", "title", "description", "service_id", "customer_id", "reporter_id", "contact",
    "requester_id", "impact", "urgency", "priority", "priority_override_reason", "status", "hold_reason",
    "resolution_code", "resolution_note", "cancel_reason", "team_id", "assignee_id", "tier", "is_major",
    "major_declared_at", "parent_id", "caused_by_card_id", "caused_by_release_id", "created_at",
    "updated_at", "responded_at", "resolved_at", "closed_at", "version", "sla_due_at",
)  # fmt: skip


def incident_rows() -> QuerySet[Incident, dict[str, Any]]:
    """The API list's incidents as plain rows ({column: value}, LIST_COLUMNS): no model
    instance per row. What a row names besides (services, teams, people, parents, problems,
    copies, participants, cards, clocks) is read for the whole page at once by
    incident_page_reads."""
    return _list_rows().all()


@lru_cache(maxsize=1)
def _list_rows() -> QuerySet[Incident, dict[str, Any]]:
    # Built once: setting up the values() query cost more per request than cloning it (.all()).
    return cast("QuerySet[Incident, dict[str, Any]]", Incident.objects.values(*LIST_COLUMNS))


@dataclass(frozen=True)
class PageReads:
    """What a page of incidents names, by incident id (incident_page_reads)."""

    # Each by incident id: its service's and team's names, its assignee's display name and
    # its parent's key (where it has one), its problem's id.
    service_names: dict[int, str]
    team_names: dict[int, str]
    user_names: dict[int, str]
    parent_keys: dict[int, str]
    problems: dict[int, int]
    cc: dict[int, list[int]]
    participants: dict[int, list[int]]
    cards: dict[int, list[dict[str, Any]]]  # incident id -> its card links, by link id


def _display_name(first: str, last: str, username: str) -> str:
    # accounts.User.display_name without the instance: get_full_name() or the username.
    return f"{first} {last}".strip() or username


def incident_page_reads(rows: list[dict[str, Any]]) -> PageReads:
    """The names and links of a page of incidents (rows as incident_rows gives them): on
    PostgreSQL one statement, elsewhere a fixed number of small queries."""
    if not rows:  # an empty page: compiling its queries alone costs milliseconds
        return PageReads({}, {}, {}, {}, {}, {}, {}, {})
    if connection.vendor == "postgresql":
        return _page_reads_in_one_statement(rows)
    return _page_reads_by_kind(rows)


def _card(
    card_id: int, key: str, title: str, column: str, category: str,
    assignee_id: int | None, username: str | None, first: str | None, last: str | None,
) -> dict[str, Any]:  # fmt: skip
    assignee = (
        None
        if assignee_id is None
        else {
            "id": assignee_id,
            "username": username,
            "name": _display_name(first or "", last or "", username or ""),
        }
    )
    return {
        "id": card_id, "key": key, "title": title, "column": column, "column_category": category,
        "assignee": assignee,
    }  # fmt: skip


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@lru_cache(maxsize=1)
def _page_reads_sql() -> str:
    """One statement for what incident_page_reads reads: per incident of the page, by
    primary key, its service's and team's names, its assignee's name parts, its parent's key,
    its problem, and its copies, participants and cards as JSON arrays in the ORM path's
    orders. Correlated subqueries, not joins: each is an index lookup the planner plans at
    once (a nine-table join cost 13 ms to plan, issue 19). The tables are the models' own,
    so the higher apps' tables are named by the incident's relations, never imported."""
    card_link = related_objects("card_links").model
    card = card_link._meta.get_field("card").related_model
    column = card._meta.get_field("column").related_model
    cc = Incident.cc.through
    contact = Incident._meta.get_field("cc").related_model
    return f"""
        SELECT i.id,
          (SELECT s.name FROM {_table(related_objects("service").model)} s WHERE s.id = i.service_id),
          (SELECT t.name FROM {_table(related_objects("team").model)} t WHERE t.id = i.team_id),
          (SELECT json_build_array(u.first_name, u.last_name, u.username)::text
             FROM {_table(User)} u WHERE u.id = i.assignee_id),
          (SELECT p.key FROM {_table(Incident)} p WHERE p.id = i.parent_id),
          (SELECT pl.problem_id FROM {_table(related_objects("problem_link").model)} pl
             WHERE pl.incident_id = i.id),
          ARRAY(SELECT c.contact_id FROM {_table(cc)} c JOIN {_table(contact)} ct ON ct.id = c.contact_id
             WHERE c.incident_id = i.id ORDER BY ct.name, c.contact_id),
          ARRAY(SELECT pp.user_id FROM {_table(Incident.participants.through)} pp
             WHERE pp.incident_id = i.id ORDER BY pp.user_id),
          (SELECT json_agg(json_build_array(cl.card_id, cd.key, cd.title, col.name, col.category,
                  cd.assignee_id, au.username, au.first_name, au.last_name) ORDER BY cl.id)::text
             FROM {_table(card_link)} cl
             JOIN {_table(card)} cd ON cd.id = cl.card_id
             JOIN {_table(column)} col ON col.id = cd.column_id
             LEFT JOIN {_table(User)} au ON au.id = cd.assignee_id
             WHERE cl.incident_id = i.id)
        FROM {_table(Incident)} i
        WHERE i.id = ANY($1)
    """  # noqa: S608 - the tables are the models' own names; the ids are a parameter


def _page_reads_in_one_statement(rows: list[dict[str, Any]]) -> PageReads:
    with connection.cursor() as cursor:
        ids = [row["id"] for row in rows]
        execute_prepared(cursor, "tandem_incident_page_reads", _page_reads_sql(), [ids], "bigint[]")
        found = cursor.fetchall()
    reads = PageReads({}, {}, {}, {}, {}, {}, {}, {})
    for pk, service, team, assignee, parent, problem, cc, participants, cards in found:
        if assignee is not None:
            first, last, username = json.loads(assignee)
            reads.user_names[pk] = _display_name(first, last, username)
        if parent is not None:
            reads.parent_keys[pk] = parent
        if problem is not None:
            reads.problems[pk] = problem
        if cc:
            reads.cc[pk] = list(cc)
        if participants:
            reads.participants[pk] = list(participants)
        if cards is not None:
            reads.cards[pk] = [_card(*card) for card in json.loads(cards)]
        reads.service_names[pk] = service
        reads.team_names[pk] = team
    return reads


def _page_reads_by_kind(rows: list[dict[str, Any]]) -> PageReads:
    """The ORM path (SQLite): one small query per kind, none when the page has nothing of
    that kind, each by primary key or a foreign-key index."""
    ids = [row["id"] for row in rows]
    services = dict(
        related_objects("service")
        .filter(pk__in={row["service_id"] for row in rows})
        .values_list("pk", "name")
    )
    teams = dict(
        related_objects("team").filter(pk__in={row["team_id"] for row in rows}).values_list("pk", "name")
    )
    users = {
        pk: _display_name(first, last, username)
        for pk, first, last, username in User.objects.filter(
            pk__in={row["assignee_id"] for row in rows if row["assignee_id"]}
        ).values_list("pk", "first_name", "last_name", "username")
    }
    parents = dict(
        Incident.objects.filter(pk__in={row["parent_id"] for row in rows if row["parent_id"]}).values_list(
            "pk", "key"
        )
    )
    problem_links = related_objects("problem_link").filter(incident_id__in=ids)
    # In the contacts' own order (name, id), as incident.cc.all() gives them.
    cc = Incident.cc.through.objects.filter(incident_id__in=ids).order_by("contact__name", "contact_id")
    participants = Incident.participants.through.objects.filter(incident_id__in=ids)
    card_links = (
        related_objects("card_links")
        .filter(incident_id__in=ids)
        .order_by("id")
        .values_list(
            "incident_id", "card_id", "card__key", "card__title", "card__column__name",
            "card__column__category", "card__assignee_id", "card__assignee__username",
            "card__assignee__first_name", "card__assignee__last_name",
        )
    )  # fmt: skip
    cards: dict[int, list[dict[str, Any]]] = {}
    for incident_id, *card in card_links:
        cards.setdefault(incident_id, []).append(_card(*card))
    copied: dict[int, list[int]] = {}
    for incident_id, contact_id in cc.values_list("incident_id", "contact_id"):
        copied.setdefault(incident_id, []).append(contact_id)
    joined: dict[int, list[int]] = {}
    for incident_id, user_id in participants.order_by("user_id").values_list("incident_id", "user_id"):
        joined.setdefault(incident_id, []).append(user_id)
    # By incident, as the one-statement path reads them.
    return PageReads(
        service_names={row["id"]: services[row["service_id"]] for row in rows},
        team_names={row["id"]: teams[row["team_id"]] for row in rows},
        user_names={row["id"]: users[row["assignee_id"]] for row in rows if row["assignee_id"]},
        parent_keys={row["id"]: parents[row["parent_id"]] for row in rows if row["parent_id"]},
        problems=dict(problem_links.values_list("incident_id", "problem_id")),
        cc=copied,
        participants=joined,
        cards=cards,
    )


def filter_sla_state(qs: QuerySet[Incident], state: str, now: datetime | None = None) -> QuerySet[Incident]:
    """Incidents with a clock in `state` (one of SLA_STATES); the SLA app does the filter."""
    return clock_reads().filter_by_clock_state(qs, state, now)


def filter_search(qs: QuerySet[Incident], text: str, *, by_relevance: bool = False) -> QuerySet[Incident]:
    """Incidents matching every term of `text` by words, key or the customer's, requester's
    or assignee's name (incidents.search). With `by_relevance`, best match first instead of
    the list's own order."""
    search = prepare(text)
    qs = incident_search(qs, search)
    if by_relevance and search:
        qs = qs.annotate(search_rank=relevance(search)).order_by(
            F("search_rank").desc(), F("created_at").desc(), F("id").desc()
        )
    return qs


def incident_sort(qs: QuerySet[Incident], sort: str) -> QuerySet[Incident]:
    """`sla` (default): earliest due instant of any active timer first (Incident.sla_due_at,
    kept by the SLA service), none last. `relevance` keeps a search's best-match order
    (filter_search with by_relevance); without a search it is the default."""
    if sort == "relevance" and "search_rank" in qs.query.annotations:
        return qs.order_by(F("search_rank").desc(), F("created_at").desc(), F("id").desc())
    due = F("sla_due_at").asc(nulls_last=True)
    orderings: dict[str, tuple[Any, ...]] = {
        "priority": ("priority", due, "created_at", "id"),
        "newest": ("-created_at", "-id"),
        "oldest": ("created_at", "id"),
        "updated": ("-updated_at", "-id"),
    }
    return qs.order_by(*orderings.get(sort, (due, "priority", "created_at", "id")))


def incident_queue(*, user: User, tab: str) -> QuerySet[Incident]:
    """The queue tabs: my incidents, my teams' unassigned incidents, all incidents. The
    incidents alone: the queue page reads a page of them as values with their names and
    clocks (QUEUE_COLUMNS, queue_names, ClockReads.queue_clocks)."""
    qs = Incident.objects.all()
    if tab == "mine":
        return qs.filter(Q(assignee=user) | Q(participants=user)).distinct()
    if tab == "unassigned":
        return qs.filter(assignee__isnull=True, team__members=user, status__in=OPEN_STATUSES)
    return qs


# The columns of an incident a queue row shows (templates/incidents/_queue_results.html).
QUEUE_COLUMNS = (
    "id", "key", "priority", "is_major", "title", "customer_id", "status", "hold_reason", "team_id",
    "tier", "assignee_id", "service_id", "created_at", "version",
)  # fmt: skip


@dataclass(frozen=True)
class QueueNames:
    """What a page of queue rows names besides its own columns: each by its own id."""

    services: dict[int, str]
    teams: dict[int, str]
    users: dict[int, str]  # display names
    customers: dict[int, str]


# queue_names' kinds: (row column, model, its name columns).
_QUEUE_NAME_KINDS = (
    ("service_id", Service, ("name",)),
    ("team_id", Team, ("name",)),
    ("assignee_id", User, ("first_name", "last_name", "username")),
    ("customer_id", Customer, ("name",)),
)


def queue_names(rows: list[dict[str, Any]]) -> QueueNames:
    """The names a page of queue rows (QUEUE_COLUMNS values) shows, read from the small
    tables they name by primary key: one statement (a UNION of the kinds the page has;
    compiling four ORM queries cost more than running them), none for an empty page."""
    quote = connection.ops.quote_name
    parts, params = [], []
    for kind, (column, model, fields) in enumerate(_QUEUE_NAME_KINDS):
        ids = sorted({row[column] for row in rows if row[column] is not None})
        if not ids:
            continue
        names = [quote(field) for field in fields] + ["''"] * (3 - len(fields))
        parts.append(
            f"SELECT {kind}, {quote(model._meta.pk.column)}, {', '.join(names)} "  # noqa: S608 - names
            f"FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} IN "
            f"({', '.join(['%s'] * len(ids))})"
        )
        params.extend(ids)
    found: list[dict[int, str]] = [{}, {}, {}, {}]
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for kind, pk, first, second, third in cursor.fetchall():
                is_user = _QUEUE_NAME_KINDS[kind][1] is User
                found[kind][pk] = _display_name(first, second, third) if is_user else first
    return QueueNames(services=found[0], teams=found[1], users=found[2], customers=found[3])


# A timer is the SLA app's SLATimer (incidents never import it): typed as Any here.
def timer_state(timer: Any, now: datetime | None = None) -> str:
    """A timer's display state: running timers past their warning instant are at risk."""
    return clock_reads().clock_display_state(timer, now)


def incident_get(*, key: str) -> Incident:
    return incident_list(for_detail=True).get(key__iexact=key)


# Bookkeeping fields that change alongside a visible one (the status change carries the note).
TIMELINE_HIDDEN_FIELDS = {
    "resolved_at",
    "closed_at",
    "resolution_note",
    "priority_override_reason",
    "cancel_reason",
}
HANDOFF_EVENTS = {"escalated", "de_escalated", "transferred"}


# The incident's own fields (its reverse relations have no label or choices).
_INCIDENT_FIELDS: dict[str, Field[Any, Any]] = {
    f.name: f for f in Incident._meta.get_fields() if isinstance(f, Field)
}


def _labelled(event: IncidentEvent, choices: dict[str, dict[str, str]]) -> IncidentEvent:
    # Not every event's `field` is an incident field (SLA events name their metric).
    field = _INCIDENT_FIELDS.get(event.field)
    mapping = choices.get(event.field, {})
    new_label = mapping.get(event.new, event.new) or "—"
    if event.field == "assignee" and not event.new:
        new_label = "nobody (unassigned)"
    # The timeline's labels, kept on the row for the template.
    vars(event).update(
        field_label=str(field.verbose_name if field else event.event.replace("_", " ")).capitalize(),
        old_label=mapping.get(event.old, event.old) or "—",
        new_label=new_label,
    )
    return event


def incident_timeline(incident: Incident) -> list[dict[str, Any]]:
    """Replies, notes and history in time order. Comment events are shown as the comment;
    the team/tier changes of a hand-off are shown as the hand-off."""
    choices = {
        name: {str(k): str(v) for k, v in f.flatchoices} for name, f in _INCIDENT_FIELDS.items() if f.choices
    }
    items: list[dict[str, Any]] = [
        {"kind": "comment", "at": c.created_at, "obj": c}
        for c in Comment.objects.filter(incident=incident)
        .select_related("author", "contact")
        .prefetch_related("inbound_mail", "attachments")
    ]
    events = list(
        IncidentEvent.objects.filter(incident=incident)
        .exclude(event__in=("replied", "noted"))
        .select_related("actor")
    )
    handoffs = {e.at for e in events if e.event in HANDOFF_EVENTS}
    items += [
        {"kind": "event", "at": e.at, "obj": _labelled(e, choices)}
        for e in events
        if e.field not in TIMELINE_HIDDEN_FIELDS and not (e.at in handoffs and e.field in ("team", "tier"))
    ]
    items.sort(key=lambda i: (i["at"], 0 if i["kind"] == "event" else 1))
    return items


def incident_history(incident: Incident) -> QuerySet[IncidentEvent]:
    return IncidentEvent.objects.filter(incident=incident).select_related("actor").order_by("at", "id")
