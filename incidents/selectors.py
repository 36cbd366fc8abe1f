"""Reads of incidents: lists with a fixed number of queries, the queue, the timeline."""

from __future__ import annotations

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


def incident_list(*, for_detail: bool = False) -> QuerySet[Incident]:
    """Incidents with everything a list row or the API shows, in a fixed number of queries."""
    # The SLA clocks and the board cards belong to higher apps: reached through their
    # reverse relations, the clocks' prefetch given by the SLA app (hooks.clock_reads).
    card_links = related_objects("card_links")
    qs = Incident.objects.select_related(
        "service", "team", "assignee", "customer", "reporter", "parent", "requester"
    ).prefetch_related(
        clock_reads().timers_prefetch(),
        "cc",
        Prefetch(
            "card_links",
            queryset=card_links.select_related("card__column", "card__assignee").order_by("id"),
        ),
        "participants",
    )
    # The problem it belongs to (the problems app's one-to-one link row), joined, not queried.
    qs = qs.select_related("problem_link")
    if for_detail:
        qs = qs.select_related("caused_by_card", "caused_by_release", "team__lead")
    return qs


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
    """The queue tabs: my incidents, my teams' unassigned incidents, all incidents."""
    qs = incident_list()
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
