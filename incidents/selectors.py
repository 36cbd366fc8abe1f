"""Reads of incidents: lists with a fixed number of queries, the queue, the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db.models import F, Field, Manager, Model, Prefetch, Q, QuerySet

from accounts.models import User

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


def incident_rows() -> QuerySet[Incident]:
    """The API list's incidents: their own columns only. What a row names besides (services,
    teams, people, parents, problems, copies, participants, cards, clocks) is read for the
    whole page at once by incident_page_reads, without model instances where plain values do."""
    return Incident.objects.all()


@dataclass(frozen=True)
class PageReads:
    """What a page of incidents names, by id (incident_page_reads)."""

    service_names: dict[int, str]
    team_names: dict[int, str]
    user_names: dict[int, str]  # display names of the assignees
    parent_keys: dict[int, str]
    problems: dict[int, int]  # incident id -> problem id
    cc: dict[int, list[int]]
    participants: dict[int, list[int]]
    cards: dict[int, list[dict[str, Any]]]  # incident id -> its card links, by link id


def _display_name(first: str, last: str, username: str) -> str:
    # accounts.User.display_name without the instance: get_full_name() or the username.
    return f"{first} {last}".strip() or username


def incident_page_reads(incidents: list[Incident]) -> PageReads:
    """The names and links of a page of incidents in a fixed number of small queries (one per
    kind, none when the page has nothing of that kind), each by primary key or a foreign-key
    index: no join on the incident table, so PostgreSQL plans each in well under a millisecond."""
    if not incidents:  # an empty page: compiling its queries alone costs milliseconds
        return PageReads({}, {}, {}, {}, {}, {}, {}, {})
    ids = [i.pk for i in incidents]
    services = related_objects("service").filter(pk__in={i.service_id for i in incidents})
    teams = related_objects("team").filter(pk__in={i.team_id for i in incidents})
    users = User.objects.filter(pk__in={i.assignee_id for i in incidents if i.assignee_id})
    parents = Incident.objects.filter(pk__in={i.parent_id for i in incidents if i.parent_id})
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
    for incident_id, card_id, key, title, column, category, assignee_id, username, first, last in card_links:
        assignee = (
            None
            if assignee_id is None
            else {"id": assignee_id, "username": username, "name": _display_name(first, last, username)}
        )
        cards.setdefault(incident_id, []).append(
            {"id": card_id, "key": key, "title": title, "column": column, "column_category": category,
             "assignee": assignee}
        )  # fmt: skip
    copied: dict[int, list[int]] = {}
    for incident_id, contact_id in cc.values_list("incident_id", "contact_id"):
        copied.setdefault(incident_id, []).append(contact_id)
    joined: dict[int, list[int]] = {}
    for incident_id, user_id in participants.order_by("user_id").values_list("incident_id", "user_id"):
        joined.setdefault(incident_id, []).append(user_id)
    return PageReads(
        service_names=dict(services.values_list("pk", "name")),
        team_names=dict(teams.values_list("pk", "name")),
        user_names={
            pk: _display_name(first, last, username)
            for pk, first, last, username in users.values_list("pk", "first_name", "last_name", "username")
        },
        parent_keys=dict(parents.values_list("pk", "key")),
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


# What a queue row shows besides its own columns (templates/incidents/_queue_results.html).
QUEUE_RELATIONS = ("service", "team", "assignee", "customer")


def incident_queue(*, user: User, tab: str) -> QuerySet[Incident]:
    """The queue tabs: my incidents, my teams' unassigned incidents, all incidents. The
    rows come with what a queue row shows (names by id and the SLA clocks) and no more."""
    qs = Incident.objects.prefetch_related(*QUEUE_RELATIONS, clock_reads().timers_prefetch())
    if tab == "mine":
        return qs.filter(Q(assignee=user) | Q(participants=user)).distinct()
    if tab == "unassigned":
        return qs.filter(assignee__isnull=True, team__members=user, status__in=OPEN_STATUSES)
    return qs


# A timer is the SLA app's SLATimer (incidents never import it): typed as Any here.
def timer_state(timer: Any, now: datetime | None = None) -> str:
    """A timer's display state: running timers past their warning instant are at risk."""
    return clock_reads().clock_display_state(timer, now)


def headline_timer(incident: Incident) -> Any:
    """The timer to show in a queue row: the earliest-due active one, else the last to stop."""
    timers = list(incident.sla_timers.all())
    active = [(t.due_at, t) for t in timers if t.is_active and t.due_at is not None]
    if active:
        return min(active, key=lambda due_timer: due_timer[0])[1]
    return timers[-1] if timers else None


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
