"""Reads for the customer portal: a contact's incidents, one incident as a customer sees it.

What a customer sees is chosen here, once, for the pages and the API alike: public comments
only (never an internal note, nor who wrote one), the files of the incident and of public
comments, the status in plain words, the response and resolution promise (the SLA clocks'
due instants), the fix forecast and planned release while development works on it
(boards.selectors), and the rating of the current resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from boards.forecasting import FixForecast
from boards.selectors import incident_fix_forecasts
from incidents.models import Attachment, Comment, HoldReason, Incident, Status
from knowledge.models import Article
from knowledge.selectors import public_articles, suggest_public_articles
from org.models import Service
from sla.models import SLATimer, TimerMetric

from .models import SatisfactionRating
from .permissions import visible_incidents

PAGE_SIZE = 25

# The status as a customer reads it (a hold says what it waits for).
PLAIN_STATUS = {
    Status.NEW: "Received — we will get back to you",
    Status.IN_PROGRESS: "We are working on it",
    Status.RESOLVED: "Resolved — reply if it is not fixed for you",
    Status.CLOSED: "Closed",
    Status.CANCELLED: "Cancelled",
}
PLAIN_HOLD = {
    HoldReason.AWAITING_CUSTOMER: "Waiting for your reply",
    HoldReason.AWAITING_VENDOR: "Waiting on a supplier",
    HoldReason.AWAITING_DEVELOPMENT: "With our developers for a fix",
}


def plain_status(incident: Incident) -> str:
    if incident.status == Status.ON_HOLD:
        return (
            PLAIN_HOLD.get(HoldReason(incident.hold_reason), "On hold") if incident.hold_reason else "On hold"
        )
    return PLAIN_STATUS.get(Status(incident.status), incident.get_status_display())


def status_tone(incident: Incident) -> str:
    """A colour family for the badge: waiting on the customer stands out."""
    if incident.status == Status.ON_HOLD and incident.hold_reason == HoldReason.AWAITING_CUSTOMER:
        return "you"
    if incident.status in (Status.RESOLVED, Status.CLOSED):
        return "done"
    if incident.status == Status.CANCELLED:
        return "off"
    return "open"


@dataclass(frozen=True)
class Promise:
    """One SLA promise: when we answer (response) or fix (resolution) by, and how it stands."""

    metric: str
    due_at: datetime | None
    state: str  # running, paused, met, breached
    zone: str  # the business calendar's zone (the promise is kept in its hours)

    @property
    def label(self) -> str:
        return "First answer" if self.metric == TimerMetric.RESPONSE else "Resolution"


def _timers() -> Prefetch[str, QuerySet[SLATimer]]:
    # Every clock, met or breached ones too: the page says a promise was kept.
    return Prefetch(
        "sla_timers", queryset=SLATimer.objects.select_related("policy__calendar").order_by("metric")
    )


def promises(incident: Incident) -> list[Promise]:
    out = []
    for timer in incident.sla_timers.all():
        calendar = timer.policy.calendar if timer.policy_id and timer.policy else None
        out.append(
            Promise(
                metric=timer.metric,
                due_at=timer.due_at,
                state=timer.state,
                zone=calendar.timezone if calendar else "UTC",
            )
        )
    return sorted(out, key=lambda p: p.metric != TimerMetric.RESPONSE)


def promise_due(incident: Incident, metric: str) -> datetime | None:
    return next((p.due_at for p in promises(incident) if p.metric == metric), None)


def _public_comments() -> Prefetch[str, QuerySet[Comment]]:
    return Prefetch(
        "comments",
        queryset=Comment.objects.filter(public=True)
        .select_related("author", "contact")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id"),
        to_attr="public_comments",
    )


def _incident_files() -> Prefetch[str, QuerySet[Attachment]]:
    """Files on the incident itself, or on a public comment: never a note's."""
    return Prefetch(
        "attachments",
        queryset=Attachment.objects.filter(Q(comment__isnull=True) | Q(comment__public=True)).order_by("id"),
        to_attr="visible_files",
    )


def portal_incident_list(*, user: Any, state: str = "open") -> QuerySet[Incident]:
    """The viewer's incidents, newest first: `state` "open" (not yet resolved, or resolved
    awaiting their answer), "closed" or "all". Fixed queries whatever the number of rows."""
    qs = (
        visible_incidents(user).select_related("service", "requester", "customer").prefetch_related(_timers())
    )
    if state == "open":
        qs = qs.exclude(status__in=[Status.CLOSED, Status.CANCELLED])
    elif state == "closed":
        qs = qs.filter(status__in=[Status.CLOSED, Status.CANCELLED])
    return qs.order_by("-created_at", "-id")


def portal_incident_get(*, user: Any, key_or_id: str | int) -> Incident:
    """One incident the viewer may see, with what the page shows; 404 otherwise."""
    qs = visible_incidents(user).select_related("service", "requester", "customer")
    qs = qs.prefetch_related(_timers(), _public_comments(), _incident_files())
    if str(key_or_id).isdigit():
        incident = qs.filter(pk=int(key_or_id)).first()
    else:
        incident = qs.filter(key=str(key_or_id).upper()).first()
    if incident is None:
        raise Http404("No such incident.")
    return incident


def forecasts_for(incidents: list[Incident]) -> dict[int, FixForecast | None]:
    """The fix forecast of each incident while development works on it (open incidents)."""
    ids = [i.pk for i in incidents if i.status not in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)]
    found = incident_fix_forecasts(ids) if ids else {}
    return {i.pk: found.get(i.pk) for i in incidents}


def ratings_for(incidents: list[Incident]) -> dict[int, SatisfactionRating]:
    """The rating of each incident's current resolution (one query)."""
    resolved = [i for i in incidents if i.resolved_at is not None]
    if not resolved:
        return {}
    q = Q()
    for i in resolved:
        q |= Q(incident_id=i.pk, resolved_at=i.resolved_at)
    return {r.incident_id: r for r in SatisfactionRating.objects.filter(q)}


def portal_services() -> QuerySet[Service]:
    return Service.objects.order_by("name")


def article_suggestions(text: str, *, service_id: int | None = None, limit: int = 5) -> list[Article]:
    """Public articles like what the customer typed (the knowledge base's own ranking)."""
    return suggest_public_articles(text, service_id=service_id, limit=limit)


def portal_article_get(*, pk: int) -> Article:
    article = public_articles().filter(pk=pk).first()
    if article is None:
        raise Http404("No such article.")
    return article
