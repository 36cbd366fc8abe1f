"""The SLA panel of the incident page: each clock with its policy, calendar, state and the
instants that explain it, in the viewer's zone (the templates format them with the zone)."""

from django import template
from django.utils import timezone

from incidents.models import HoldReason, Status

from ..models import PauseCause, TimerState
from ..selectors import timer_remaining_seconds

register = template.Library()

HOLD_LABELS = {reason.value: reason.label.lower() for reason in HoldReason}


@register.filter
def business_duration(seconds):
    """Business seconds as "2 d 3 h", "3 h 20 min", "45 min" (sign dropped)."""
    if seconds is None:
        return "—"
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def _row(incident, timer, state, now):
    policy = timer.policy
    remaining = timer_remaining_seconds(timer, now)
    paused = timer.is_active and timer.paused_at is not None
    row = {
        "timer": timer,
        "state": state,
        "policy": policy,
        "calendar": policy.calendar if policy else None,
        "remaining": remaining,
        "overdue": remaining is not None and remaining < 0,
        "paused": paused,
        "counting": timer.is_active and not paused and timer.due_at is not None,
        "pause_cause": PauseCause(timer.pause_cause).label if paused and timer.pause_cause else "",
        "cards": [],
        "running_on_hold": "",
    }
    if paused and timer.pause_cause == PauseCause.DEVELOPMENT:
        # The development card(s) the clock waits on (prefetched with the incident).
        row["cards"] = [link.card for link in incident.card_links.all()]
    if row["counting"] and incident.status == Status.ON_HOLD:
        row["running_on_hold"] = HOLD_LABELS.get(incident.hold_reason, incident.hold_reason or "on hold")
    return row


@register.inclusion_tag("incidents/_sla_panel.html")
def sla_panel(incident, timers):
    """`timers`: the view's [{"timer": t, "state": display_state}], timers prefetched with
    their policy and calendar (sla.selectors.sla_timer_prefetch): no query per clock."""
    now = timezone.now()
    rows = [_row(incident, t["timer"], t["state"], now) for t in timers]
    policies = {r["policy"].pk: r["policy"] for r in rows if r["policy"] is not None}
    return {
        "incident": incident,
        "rows": rows,
        "policy": next(iter(policies.values())) if len(policies) == 1 else None,
        "several_policies": len(policies) > 1,
        "TimerState": {s.name: s.value for s in TimerState},
    }


@register.filter
def business_minutes(minutes):
    """A target in business minutes, as business_duration does."""
    return business_duration(None if minutes is None else int(minutes) * 60)
