"""How incident reads show the SLA clocks: the SLA app's side of incidents.hooks.ClockReads,
registered in SlaConfig.ready(). Incidents never import the SLA app; the queue, its filter
and the incident API ask this module through the port."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone
from rest_framework.fields import Field

from .api.serializers import SLATimerSerializer
from .models import SLATimer, TimerState
from .selectors import sla_timer_prefetch, timer_display_state


def timers_prefetch() -> Prefetch[str]:
    """`incident.sla_timers` with their policy and calendar, by metric."""
    return sla_timer_prefetch()


def filter_by_clock_state(qs: QuerySet[Any], state: str, now: datetime | None = None) -> QuerySet[Any]:
    """Incidents with a clock in `state` (running, paused, met, breached, or at_risk:
    running and past its warning instant); any other value filters nothing."""
    now = now or timezone.now()
    timers = SLATimer.objects.filter(incident=OuterRef("pk"))
    if state == "at_risk":
        return qs.filter(Exists(timers.filter(state=TimerState.RUNNING, warn_at__lte=now)))
    if state in TimerState.values:
        return qs.filter(Exists(timers.filter(state=state)))
    return qs


def clock_display_state(timer: SLATimer, now: datetime | None = None) -> str:
    return timer_display_state(timer, now)


def incident_api_field() -> Field[Any, Any, Any, Any]:
    """The incident API's `sla` list: one timer serializer for the whole list (the
    serializer context's "now" is shared by every row)."""
    return SLATimerSerializer(source="sla_timers", many=True, read_only=True)
