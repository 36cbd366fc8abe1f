"""Moments in an incident's life that higher apps react to.

Incidents sit at the bottom of the case-handling apps: SLA clocks, boards, escalation and
the customer channel build on them, and incidents import none of them. Each list below
names a moment; a higher app appends its callable once, in its `AppConfig.ready()`. The
incidents services call them in order inside their own transaction, after the change is
written, so a failing subscriber rolls the whole action back and nothing is half done.

The SLA app subscribes to all three (it starts, stops, pauses and retargets the clocks).

`clock_reads` is a port the other way round: the incident reads (the queue, its SLA
filter, the API's `sla` field) show the SLA clocks, which the SLA app owns, so the SLA
app registers how to read them (`register_clock_reads`, in its `AppConfig.ready()`).
`queue_extras` is a port for the queue page: the desk app registers its saved views and
bulk actions there (incidents/views.queue renders what each provider returns).
See docs/architecture.md for the pattern.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import Prefetch, QuerySet
    from django.http import HttpRequest, QueryDict
    from rest_framework.fields import Field

    from .models import Comment, Incident

    # field -> (old, new); related records as their primary keys
    Changes = dict[str, tuple[Any, Any]]


class IncidentCreated(Protocol):
    def __call__(self, *, incident: Incident, at: datetime) -> Any: ...


class IncidentChanged(Protocol):
    def __call__(
        self, *, incident: Incident, changes: Changes, at: datetime, actor: AbstractBaseUser | None = None
    ) -> Any: ...


class PublicReply(Protocol):
    def __call__(self, *, incident: Incident, at: datetime) -> Any: ...


class CommentAdded(Protocol):
    def __call__(self, *, comment: Comment) -> Any: ...


# Before a new incident's row is written (its fields set, no id yet): a higher app may set
# the fields it derives (the SLA app: sla_due_at), so the insert writes them at once.
incident_inserting: list[IncidentCreated] = []
incident_created: list[IncidentCreated] = []
incident_changed: list[IncidentChanged] = []
public_reply: list[PublicReply] = []
# Every comment, once written (the customer channel mails public replies after commit).
comment_added: list[CommentAdded] = []


def fire_incident_inserting(*, incident: Incident, at: datetime) -> None:
    for hook in incident_inserting:
        hook(incident=incident, at=at)


def fire_incident_created(*, incident: Incident, at: datetime) -> None:
    for hook in incident_created:
        hook(incident=incident, at=at)


def fire_incident_changed(
    *, incident: Incident, changes: Changes, at: datetime, actor: AbstractBaseUser | None = None
) -> None:
    for hook in incident_changed:
        hook(incident=incident, changes=changes, at=at, actor=actor)


def fire_comment_added(*, comment: Comment) -> None:
    for hook in comment_added:
        hook(comment=comment)


class IncidentLogged(Protocol):
    def __call__(
        self, *, incident: Incident, form_data: Mapping[str, Any], actor: AbstractBaseUser | None
    ) -> Any: ...


# The browser's "Log incident" form was submitted and the incident written: a higher app acts
# on its own fields of the form (problems links the incident to the known error the agent chose
# among the form's suggestions), inside the creation's transaction; a ValidationError it raises
# is shown on the form and nothing is logged.
incident_logged: list[IncidentLogged] = []


def fire_incident_logged(
    *, incident: Incident, form_data: Mapping[str, Any], actor: AbstractBaseUser | None
) -> None:
    for hook in incident_logged:
        hook(incident=incident, form_data=form_data, actor=actor)


def fire_public_reply(*, incident: Incident, at: datetime) -> None:
    for hook in public_reply:
        hook(incident=incident, at=at)


class FixForecasts(Protocol):
    """What incident reads need from the boards app (boards.incident_reads): the fix
    forecasts of many incidents at once ({incident id: forecast or None}; a list reads them
    in one go, never per row) and the incident API's `fix_forecast` field, which takes a
    page's forecasts from the serializer context under FIX_FORECASTS_CONTEXT."""

    def for_incidents(self, incident_ids: list[int]) -> dict[int, Any]: ...

    def incident_api_field(self) -> Field[Any, Any, Any, Any]: ...


FIX_FORECASTS_CONTEXT = "fix_forecasts"
_fix_forecasts: FixForecasts | None = None


def register_fix_forecasts(reads: FixForecasts) -> None:
    global _fix_forecasts
    _fix_forecasts = reads


def fix_forecasts() -> FixForecasts:
    if _fix_forecasts is None:
        raise ImproperlyConfigured("No app registered the fix forecasts (the boards app does, in ready()).")
    return _fix_forecasts


class ClockReads(Protocol):
    """What incident reads need from the SLA app (sla.incident_reads): the clocks to
    prefetch on a list (`incident.sla_timers`), the queue's filter by clock state, a
    clock's badge state, the incident API's `sla` field, a page's `sla` lists read at once
    as plain values (`page_clocks`, for the lean list: {incident id: [clock dicts]}), and the
    clock each queue row shows (`queue_clocks`)."""

    def timers_prefetch(self) -> Prefetch[str]: ...

    def filter_by_clock_state(
        self, qs: QuerySet[Incident], state: str, now: datetime | None = None
    ) -> QuerySet[Incident]: ...

    def clock_display_state(self, timer: Any, now: datetime | None = None) -> str: ...

    def incident_api_field(self) -> Field[Any, Any, Any, Any]: ...

    def page_clocks(
        self, incident_ids: list[int], *, now: datetime, iso: Callable[[datetime | None], str | None]
    ) -> dict[int, list[dict[str, Any]]]: ...

    def queue_clocks(self, incident_ids: list[int], *, now: datetime) -> dict[int, QueueClock]: ...


@dataclass(frozen=True)
class QueueClock:
    """The clock a queue row shows (queue_clocks): the earliest-due active one, else the
    last to stop; `state` is its badge state (at_risk for a running clock past its warning)."""

    metric: str
    metric_label: str
    state: str
    due_at: datetime | None
    has_policy: bool


_clock_reads: ClockReads | None = None


def register_clock_reads(reads: ClockReads) -> None:
    global _clock_reads
    _clock_reads = reads


def clock_reads() -> ClockReads:
    if _clock_reads is None:
        raise ImproperlyConfigured("No app registered the clock reads (the sla app does, in ready()).")
    return _clock_reads


# ------------------------------------------------------------------ the queue page's extras
@dataclass(frozen=True)
class QueueExtra:
    """A higher app's part of the queue page (the desk's saved views and bulk bar).

    `template` is rendered at the top of the queue's results with `context` as `extra`, so
    it follows the filters when htmx refreshes the results. `select_form`, when set, gives
    every row a checkbox (and the header a select-all) belonging to the form with that id.
    `keep_params` are query parameters of the higher app the filter form carries along
    (hidden inputs), e.g. which saved view is open.
    """

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    select_form: str = ""
    keep_params: dict[str, str] = field(default_factory=dict)


class QueueExtras(Protocol):
    """`query` is the queue's filters as the page applies them (the default status
    included, no page number)."""

    def __call__(self, *, request: HttpRequest, query: QueryDict) -> QueueExtra | None: ...


queue_extras: list[QueueExtras] = []


def collect_queue_extras(*, request: HttpRequest, query: QueryDict) -> list[QueueExtra]:
    return [extra for provider in queue_extras if (extra := provider(request=request, query=query))]


# ------------------------------------------------------------------ the reply box's tools
class ReplyTools(Protocol):
    """A higher app's control inside the incident page's reply form (the knowledge base's
    "Insert an article"): a template and its context, rendered under the message box as
    `tool`; None when it has nothing to offer this user on this incident. `request` is the
    page's HttpRequest."""

    def __call__(self, *, request: Any, incident: Incident) -> tuple[str, dict[str, Any]] | None: ...


reply_tools: list[ReplyTools] = []


def collect_reply_tools(*, request: Any, incident: Incident) -> list[dict[str, Any]]:
    """Each registered tool as {"template", "context"} for the reply form."""
    found = []
    for provider in reply_tools:
        tool = provider(request=request, incident=incident)
        if tool is not None:
            found.append({"template": tool[0], "context": tool[1]})
    return found
