"""Reads for the SLA engine: calendars as arithmetic objects, timers, policies."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from . import calendar as bcal
from .models import BusinessCalendar, SLAPolicy, SLATimer, TimerState


@lru_cache(maxsize=256)
def _parsed(key: tuple[str, bool, str, tuple[str, ...], str, str]) -> bcal.Calendar:
    tz, always_open, hours_json, holidays, country, subdivision = key
    return bcal.parse_calendar(
        timezone=tz,
        hours=json.loads(hours_json),
        holidays=list(holidays),
        country=country,
        subdivision=subdivision,
        always_open=always_open,
    )


def calendar_of(calendar: BusinessCalendar) -> bcal.Calendar:
    """The arithmetic calendar of a stored one, parsed once per distinct content and
    process (the cache key is the content, so an edit is picked up at once)."""
    return calendar_from_columns(
        timezone=calendar.timezone,
        always_open=calendar.always_open,
        hours=calendar.hours,
        holidays=calendar.holidays,
        country=calendar.country,
        subdivision=calendar.subdivision,
    )


def calendar_from_columns(
    *, timezone: str, always_open: bool, hours: Any, holidays: Any, country: str, subdivision: str
) -> bcal.Calendar:
    """calendar_of from a stored calendar's columns (lists read them as values)."""
    key = (
        timezone,
        bool(always_open),
        json.dumps(hours or {}, sort_keys=True),
        tuple(sorted(holidays or [])),
        country or "",
        subdivision or "",
    )
    return _parsed(key)


def timer_calendar(timer: SLATimer) -> bcal.Calendar | None:
    policy = timer.policy
    return calendar_of(policy.calendar) if policy is not None else None


def timer_is_counting(timer: SLATimer) -> bool:
    return is_counting(active=timer.is_active, paused_at=timer.paused_at, due_at=timer.due_at)


def is_counting(*, active: bool, paused_at: datetime | None, due_at: datetime | None) -> bool:
    """A timer's clock runs: active, not paused, with a due instant (from its columns)."""
    return active and paused_at is None and due_at is not None


def timer_remaining_seconds(timer: SLATimer, now: datetime | None = None) -> int | None:
    """Business seconds left until the timer is due; negative once overdue.

    Paused or stopped timers report the remaining time frozen when their clock stopped.
    Reads timer.policy.calendar: select_related("policy__calendar") for lists.
    """
    counting = timer_is_counting(timer)
    return remaining_seconds(
        has_policy=timer.policy_id is not None,
        counting=counting,
        due_at=timer.due_at,
        target_minutes=timer.target_minutes,
        elapsed_seconds=timer.elapsed_seconds,
        calendar=timer_calendar(timer) if counting else None,
        now=now,
    )


def remaining_seconds(
    *,
    has_policy: bool,
    counting: bool,
    due_at: datetime | None,
    target_minutes: int,
    elapsed_seconds: float,
    calendar: bcal.Calendar | None,
    now: datetime | None = None,
    from_now: Callable[[datetime], float] | None = None,
) -> int | None:
    """timer_remaining_seconds from a timer's columns (lists read them as values): the one
    rule for the remaining time, with the timer's policy calendar (None without a policy).
    `from_now`: the calendar's business seconds from `now` to an instant, shared by a page's
    clocks (bcal.BusinessSecondsFrom); else computed here."""
    if not has_policy and due_at is None and not target_minutes:
        return None  # no policy applied: no clock
    if not counting:
        return round(target_minutes * 60 - elapsed_seconds)
    if due_at is None:  # never: a counting timer has its due instant (for the type)
        return None
    now = now or timezone.now()
    if calendar is None:
        return round((due_at - now).total_seconds())
    if from_now is not None:
        return round(from_now(due_at))
    return round(bcal.business_seconds_between(calendar, now, due_at))


def timers_at_risk(now: datetime | None = None) -> QuerySet[SLATimer]:
    """The timers at risk now (`at_risk` as a filter): running and past their warning
    instant. Read them in warning order (the at-risk partial index) where their count is
    unknown: PostgreSQL estimates the two conditions as independent and common."""
    return SLATimer.objects.filter(state=TimerState.RUNNING, warn_at__lte=now or timezone.now())


def timer_at_risk(timer: SLATimer, now: datetime | None = None) -> bool:
    """Running and past its warning instant, not yet breached."""
    return at_risk(state=timer.state, paused_at=timer.paused_at, warn_at=timer.warn_at, now=now)


def at_risk(
    *, state: str, paused_at: datetime | None, warn_at: datetime | None, now: datetime | None
) -> bool:
    """timer_at_risk from a timer's columns."""
    now = now or timezone.now()
    return state == TimerState.RUNNING and paused_at is None and warn_at is not None and warn_at <= now


def timer_display_state(timer: SLATimer, now: datetime | None = None) -> str:
    """State for badges: running / at_risk / paused / met / breached."""
    if timer.state == TimerState.RUNNING and timer_at_risk(timer, now):
        return "at_risk"
    return timer.state


def timers_with_calendars(qs: QuerySet[SLATimer] | None = None) -> QuerySet[SLATimer]:
    qs = qs if qs is not None else SLATimer.objects.all()
    return qs.select_related("policy__calendar")


def sla_timer_prefetch(lookup: str = "sla_timers") -> Prefetch[str, QuerySet[SLATimer]]:
    """For incident lists: `Incident.objects.prefetch_related(sla_timer_prefetch())`."""
    return Prefetch(lookup, queryset=timers_with_calendars().order_by("metric"))


def calendar_list() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.order_by("name")


def policy_list() -> QuerySet[SLAPolicy]:
    return SLAPolicy.objects.select_related("calendar", "service", "customer").order_by("priority", "name")


def policy_for(
    *, priority: str, service_id: int | None = None, customer_id: int | None = None, incident_type: str = ""
) -> SLAPolicy | None:
    """The most specific active policy for an incident's attributes.

    A policy matches when its priority equals and each of its optional criteria (service,
    customer, type) is empty or equal. More criteria set wins; ties go to customer over
    service over type, then to the lowest id (oldest).
    """
    candidates = (
        SLAPolicy.objects.select_related("calendar").filter(active=True, priority=priority).order_by("id")
    )
    best, best_score = None, None
    for policy in candidates:
        if policy.service_id and policy.service_id != service_id:
            continue
        if policy.customer_id and policy.customer_id != customer_id:
            continue
        if policy.incident_type and policy.incident_type != incident_type:
            continue
        score = (
            bool(policy.service_id) + bool(policy.customer_id) + bool(policy.incident_type),
            bool(policy.customer_id),
            bool(policy.service_id),
            bool(policy.incident_type),
        )
        if best_score is None or score > best_score:
            best, best_score = policy, score
    return best
