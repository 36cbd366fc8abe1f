"""How incident reads show the SLA clocks: the SLA app's side of incidents.hooks.ClockReads,
registered in SlaConfig.ready(). Incidents never import the SLA app; the queue, its filter
and the incident API ask this module through the port."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone
from rest_framework.fields import Field

from incidents.hooks import QueueClock
from tracker.sql import execute_prepared

from . import calendar as bcal
from .api.serializers import SLATimerSerializer
from .calendar import BusinessSecondsFrom
from .models import BusinessCalendar, SLAPolicy, SLATimer, TimerMetric, TimerState
from .selectors import (
    at_risk,
    calendar_from_columns,
    calendar_of,
    is_counting,
    remaining_seconds,
    sla_timer_prefetch,
    timer_display_state,
    timers_at_risk,
)

# The columns of a timer a list row shows (SLATimerSerializer's fields) and its rules read.
_PAGE_COLUMNS = (
    "incident_id", "metric", "state", "due_at", "breached_at", "warn_at", "target_minutes", "paused_at",
    "pause_cause", "is_active", "elapsed_seconds", "policy_id", "policy__calendar_id",
)  # fmt: skip


def timers_prefetch() -> Prefetch[str]:
    """`incident.sla_timers` by metric, with their policy and calendar (what the remaining
    business time needs)."""
    return sla_timer_prefetch()


# A clock state held by at most this many timers is filtered by their incident ids.
PROBE_LIMIT = 1000


def filter_by_clock_state(qs: QuerySet[Any], state: str, now: datetime | None = None) -> QuerySet[Any]:
    """Incidents with a clock in `state` (running, paused, met, breached, or at_risk:
    running and past its warning instant); any other value filters nothing.

    The timers in that state are probed first (PROBE_LIMIT + 1 incident ids, through the
    partial indexes of running, at-risk and paused clocks): a rare state, such as at risk
    after a sweep or paused, is then a filter by those ids. A common one is a semi-join
    while the list walks its own order, which finds its page at once. (The semi-join alone
    walked all 1,000,000 incidents when the planner's statistics still believed in many
    at-risk clocks that had since breached: 3.5 s for an empty page.)"""
    now = now or timezone.now()
    # The probe's order names its index: PostgreSQL estimates "running and warned" as the
    # product of two common conditions (half a million timers at 1M, when none may be) and
    # would scan the table, where the at-risk index finds the few in milliseconds.
    if state == "at_risk":
        matching = timers_at_risk(now)
        order: tuple[str, ...] = ("warn_at",)
    elif state in TimerState.values:
        matching = SLATimer.objects.filter(state=state)
        order = ("incident_id",) if state == TimerState.PAUSED else ()
    else:
        return qs
    probe = list(matching.order_by(*order).values_list("incident_id", flat=True)[: PROBE_LIMIT + 1])
    if len(probe) <= PROBE_LIMIT:
        return qs.filter(pk__in=sorted(set(probe)))
    return qs.filter(Exists(matching.filter(incident=OuterRef("pk"))))


def clock_display_state(timer: SLATimer, now: datetime | None = None) -> str:
    return timer_display_state(timer, now)


# A queue row's clock: the timer columns its badge reads.
_QUEUE_COLUMNS = (
    "incident_id", "metric", "state", "due_at", "is_active", "policy_id", "warn_at", "paused_at",
)  # fmt: skip


def queue_clocks(incident_ids: list[int], *, now: datetime) -> dict[int, QueueClock]:
    """The clock each queue row shows, by incident id (one query of plain values, no model
    instance): of an incident's clocks by metric, the earliest-due active one, else the
    last; incidents without a clock are left out."""
    if not incident_ids:
        return {}
    labels = dict(TimerMetric.choices)
    timers: dict[int, list[tuple[Any, ...]]] = {}
    for row in (
        SLATimer.objects.filter(incident_id__in=incident_ids).order_by("metric").values_list(*_QUEUE_COLUMNS)
    ):
        timers.setdefault(row[0], []).append(row)
    clocks = {}
    for incident_id, rows in timers.items():
        active = [row for row in rows if row[4] and row[3] is not None]
        _, metric, state, due_at, _, policy_id, warn_at, paused_at = (
            min(active, key=lambda row: row[3]) if active else rows[-1]
        )
        if at_risk(state=state, paused_at=paused_at, warn_at=warn_at, now=now):
            state = "at_risk"
        clocks[incident_id] = QueueClock(
            metric=metric,
            metric_label=str(labels.get(metric, metric)),
            state=state,
            due_at=due_at,
            has_policy=policy_id is not None,
        )
    return clocks


def incident_api_field() -> Field[Any, Any, Any, Any]:
    """The incident API's `sla` list: one timer serializer for the whole list (the
    serializer context's "now" is shared by every row)."""
    return SLATimerSerializer(source="sla_timers", many=True, read_only=True)


PageTimers = tuple[list[tuple[Any, ...]], dict[int, bcal.Calendar]]


def _counting_calendars(rows: list[tuple[Any, ...]]) -> set[int]:
    return {
        row[12]
        for row in rows
        if row[12] is not None and is_counting(active=row[9], paused_at=row[7], due_at=row[3])
    }


def _page_timers(incident_ids: list[int]) -> PageTimers:
    """The page's timers (_PAGE_COLUMNS, by metric) and the calendars of those whose clock
    counts, by calendar id. On PostgreSQL as plain statements (compiling the ORM's queries
    cost more than running them); elsewhere through the ORM. Both give the same."""
    if connection.vendor == "postgresql":
        return _page_timers_in_sql(incident_ids)
    return _page_timers_by_orm(incident_ids)


def _page_timers_by_orm(incident_ids: list[int]) -> PageTimers:
    rows = list(
        SLATimer.objects.filter(incident_id__in=incident_ids)
        .order_by("metric", "incident_id")
        .values_list(*_PAGE_COLUMNS)
    )
    wanted = _counting_calendars(rows)
    found = BusinessCalendar.objects.filter(pk__in=wanted) if wanted else []
    return rows, {c.pk: calendar_of(c) for c in found}


def _page_timers_in_sql(incident_ids: list[int]) -> PageTimers:
    timers_sql, calendars_sql = _page_sql()
    with connection.cursor() as cursor:
        execute_prepared(cursor, "tandem_sla_page_timers", timers_sql, [incident_ids], "bigint[]")
        rows = cursor.fetchall()
        wanted = _counting_calendars(rows)
        if not wanted:
            return rows, {}
        cursor.execute(calendars_sql, [sorted(wanted)])
        return rows, {
            pk: calendar_from_columns(
                timezone=tz,
                always_open=always_open,
                hours=json.loads(hours),
                holidays=json.loads(holidays),
                country=country,
                subdivision=subdivision,
            )
            for pk, tz, always_open, hours, holidays, country, subdivision in cursor.fetchall()
        }


@lru_cache(maxsize=1)
def _page_sql() -> tuple[str, str]:
    """_page_timers' statements: the timers with their policy's calendar, and calendars."""
    quote = connection.ops.quote_name
    timer, policy, calendar = (quote(m._meta.db_table) for m in (SLATimer, SLAPolicy, BusinessCalendar))
    # The timer's own columns by attname (SLATimer names no db_column), then its calendar.
    columns = ", ".join(f"t.{quote(name)}" for name in _PAGE_COLUMNS[:-1])
    timers = f"""
        SELECT {columns}, p.calendar_id FROM {timer} t LEFT JOIN {policy} p ON p.id = t.policy_id
        WHERE t.incident_id = ANY($1) ORDER BY t.metric, t.incident_id
    """  # noqa: S608 - the models' own table and column names; the ids are a parameter
    calendars = f"""
        SELECT id, timezone, always_open, hours::text, holidays::text, country, subdivision
        FROM {calendar} WHERE id = ANY(%s)
    """  # noqa: S608 - the model's own table name; the ids are a parameter
    return timers, calendars


def page_clocks(
    incident_ids: list[int], *, now: datetime, iso: Callable[[datetime | None], str | None]
) -> dict[int, list[dict[str, Any]]]:
    """The `sla` lists of a page of incidents, by incident id, as SLATimerSerializer writes
    them (by metric), from the timers' columns read as values and each calendar of the page
    read once: two queries (one when no clock counts on a calendar), no model instance per
    timer. `iso` writes the instants (tracker.api.datetimes.iso_instants)."""
    if not incident_ids:
        return {}
    rows, calendars = _page_timers(incident_ids)
    # Every clock of the page is measured from the same instant: each calendar's business
    # time from now is walked once for all of them.
    # Overdue clocks lie before now: each walk starts at its calendar's earliest due instant.
    earliest: dict[int, datetime] = {}
    for row in rows:
        if row[12] in calendars and row[3] is not None and row[3] < now:
            earliest[row[12]] = min(earliest.get(row[12], row[3]), row[3])
    from_now = {
        pk: BusinessSecondsFrom(calendar, now, earliest=earliest.get(pk))
        for pk, calendar in calendars.items()
    }
    clocks: dict[int, list[dict[str, Any]]] = {pk: [] for pk in incident_ids}
    for (incident_id, metric, state, due_at, breached_at, warn_at, target, paused_at, cause, active,
         elapsed, policy_id, calendar_id) in rows:  # fmt: skip
        counting = is_counting(active=active, paused_at=paused_at, due_at=due_at)
        clocks[incident_id].append(
            {
                "metric": metric,
                "state": state,
                "due_at": iso(due_at),
                "remaining_seconds": remaining_seconds(
                    has_policy=policy_id is not None,
                    counting=counting,
                    due_at=due_at,
                    target_minutes=target,
                    elapsed_seconds=elapsed,
                    calendar=calendars.get(calendar_id) if counting and policy_id is not None else None,
                    now=now,
                    from_now=from_now.get(calendar_id) if counting and policy_id is not None else None,
                ),
                "breached_at": iso(breached_at),
                "warn_at": iso(warn_at),
                "at_risk": at_risk(state=state, paused_at=paused_at, warn_at=warn_at, now=now),
                "paused_cause": (cause or None) if paused_at is not None else None,
                "target_minutes": target,
            }
        )
    return clocks
