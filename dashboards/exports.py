"""CSV exports, streamed: rows come from a server-side cursor (`.iterator()`) and leave
as they are written, so 100,000 rows never sit in memory together.

They are data sets for audits, so every cell says what it means without the code: choice
values as their labels ("In progress", "P2 – high", "Workaround provided"), people by name,
times as ISO 8601 in the viewer's zone with the offset and whole seconds. An incident row
carries the outcome of both SLA clocks, the resolution code and the time logged on it; its
"First response" is the instant the response clock stopped, the same source as the response
SLA and the dashboards' MTTA (dashboards.metrics.ACKNOWLEDGED), so the three never disagree.
Only an incident that has no response clock (no policy applied) falls back to its first
public reply.
"""

from collections.abc import Callable

from django.db.models import (
    Case,
    DateTimeField,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce

from incidents.models import IncidentType, Priority, ResolutionCode, Status, TimeEntry
from sla.models import TimerMetric, TimerState
from tracker.csv import csv_response

__all__ = ["csv_response", "incident_rows", "timer_rows", "dict_rows"]

CHUNK = 2000
NO_CLOCK = "No SLA"  # no clock, or a clock without a target


def _labels(choices) -> Callable:
    labels = dict(choices.choices)
    return lambda value: labels.get(value, value) if value else ""


def _tier(value) -> str:
    return f"Tier {value}" if value else ""


def _clock(state, target_minutes=None) -> str:
    """A clock's outcome; a clock that runs without a target (no policy matched) has none."""
    if not state:
        return NO_CLOCK
    if target_minutes == 0 and state in (TimerState.RUNNING, TimerState.PAUSED):
        return NO_CLOCK
    return _CLOCK_LABELS.get(state, state)


_CLOCK_LABELS = {
    **dict(TimerState.choices),
    # stopped by cancelling the incident before it was met or breached: counted in neither
    TimerState.CANCELLED: "Void (cancelled)",
}
priority_label = _labels(Priority)
status_label = _labels(Status)
type_label = _labels(IncidentType)
resolution_label = _labels(ResolutionCode)
metric_label = _labels(TimerMetric)
clock_label = _clock


def person(first: str | None, last: str | None, username: str | None) -> str:
    """A user as people know them: the full name, else the username, else blank."""
    name = f"{first or ''} {last or ''}".strip()
    return name or username or ""


class Column:
    """One CSV column: its header, the lookups it reads and how they become the cell."""

    def __init__(self, label: str, *lookups: str, show: Callable | None = None):
        self.label = label
        self.lookups = lookups
        self.show = show

    def cell(self, values):
        if self.show is None:
            return values[0]
        return self.show(*values)


def _user(prefix: str, label: str) -> Column:
    return Column(label, f"{prefix}__first_name", f"{prefix}__last_name", f"{prefix}__username", show=person)


INCIDENT_COLUMNS = (
    Column("Key", "key"),
    Column("Title", "title"),
    Column("Type", "type", show=type_label),
    Column("Priority", "priority", show=priority_label),
    Column("Status", "status", show=status_label),
    Column("Tier", "tier", show=_tier),
    Column("Team", "team__name"),
    Column("Service", "service__name"),
    Column("Customer", "customer__name"),
    _user("assignee", "Assignee"),
    Column("Created", "created_at"),
    Column("First response", "export_first_response"),
    Column("Response SLA", "export_response__state", "export_response__target_minutes", show=clock_label),
    Column("Resolved", "resolved_at"),
    Column(
        "Resolution SLA", "export_resolution__state", "export_resolution__target_minutes", show=clock_label
    ),
    Column("Resolution code", "resolution_code", show=resolution_label),
    Column("Time logged (minutes)", "export_minutes"),
)


def with_export_fields(qs):
    """The incidents with what their rows need beyond their own columns: both SLA clocks
    (one join each; a clock is unique per incident and metric), the instant the response
    clock stopped, and the minutes logged (one aggregate per row, on the incident index)."""
    minutes = (
        TimeEntry.objects.filter(incident=OuterRef("pk"))
        .order_by()
        .values("incident")
        .annotate(total=Sum("minutes"))
        .values("total")
    )
    return qs.annotate(
        export_response=FilteredRelation("sla_timers", condition=Q(sla_timers__metric=TimerMetric.RESPONSE)),
        export_resolution=FilteredRelation(
            "sla_timers", condition=Q(sla_timers__metric=TimerMetric.RESOLUTION)
        ),
    ).annotate(
        export_first_response=Case(
            When(export_response__isnull=True, then=F("responded_at")),
            When(export_response__state=TimerState.CANCELLED, then=None),
            default=F("export_response__stopped_at"),
            output_field=DateTimeField(),
        ),
        export_minutes=Coalesce(Subquery(minutes, output_field=IntegerField()), 0),
    )


def column_rows(qs, columns):
    """(header, rows) of a queryset streamed through `columns`."""
    header = [c.label for c in columns]
    lookups = [lookup for c in columns for lookup in c.lookups]
    spans = []
    i = 0
    for c in columns:
        spans.append((c, i, i + len(c.lookups)))
        i += len(c.lookups)

    def rows():
        for values in qs.values_list(*lookups).iterator(chunk_size=CHUNK):
            yield [c.cell(values[a:b]) for c, a, b in spans]

    return header, rows()


def incident_rows(qs, extra=()):
    """(header, rows) of incidents; `extra` adds Columns (or (lookup, label) pairs)."""
    extra = tuple(c if isinstance(c, Column) else Column(c[1], c[0]) for c in extra)
    return column_rows(with_export_fields(qs), (*INCIDENT_COLUMNS, *extra))


TIMER_COLUMNS = (
    Column("Incident", "incident__key"),
    Column("Title", "incident__title"),
    Column("Priority", "incident__priority", show=priority_label),
    Column("Team", "incident__team__name"),
    _user("incident__assignee", "Assignee"),
    Column("Metric", "metric", show=metric_label),
    Column("Due", "due_at"),
    Column("Breached", "breached_at"),
    Column("SLA outcome", "state", "target_minutes", show=clock_label),
)


def timer_rows(qs):
    """(header, rows) of SLA clocks (breaches, at risk now)."""
    return column_rows(qs, TIMER_COLUMNS)


def dict_rows(items, columns):
    """(header, rows) from a small list of dicts (dashboard tables already aggregated);
    a column may be (key, label) or (key, label, show)."""
    header = [c[1] for c in columns]

    def cell(item, column):
        value = item.get(column[0])
        return column[2](value) if len(column) > 2 else value

    return header, ([cell(item, c) for c in columns] for item in items)
