"""The clocks of an incident follow its lifecycle.

The incidents app fires its hooks (`incidents.hooks`) inside its own transaction, with
the incident row locked; `sla.apps` subscribes the three `sla_on_*` functions here, so a
timer change and the incident change commit or roll back together. Timer rows are
locked in pk order before they change. `sync_timers` is the one place a clock's mode,
instants and outcome are worked out; policy edits (`retarget`) reuse it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from incidents.models import HoldReason, Incident, Status

from .. import calendar as bcal
from ..models import (
    PauseCause,
    PausePeriod,
    SLAEventKind,
    SLAPolicy,
    SLATimer,
    TimerMetric,
    TimerState,
    default_pause_on,
)
from ..selectors import calendar_of, policy_for
from .events import Fired, emit_events

logger = logging.getLogger(__name__)


HOLD_CAUSE: dict[str, PauseCause] = {
    HoldReason.AWAITING_CUSTOMER.value: PauseCause.CUSTOMER,
    HoldReason.AWAITING_VENDOR.value: PauseCause.VENDOR,
    HoldReason.AWAITING_DEVELOPMENT.value: PauseCause.DEVELOPMENT,
}
HOLD_REASONS = tuple(HOLD_CAUSE)
STOPPED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)
RESELECT_FIELDS = ("priority", "service", "customer", "type")

COUNTING, PAUSED, STOPPED = "counting", "paused", "stopped"
# Why a clock stopped, when it was because the incident was cancelled (see TimerState).
CANCELLED_CAUSE: str = Status.CANCELLED


# ================================================================== lifecycle hooks
# A new incident's clocks planned before its row is written (sla_on_incident_inserting),
# kept on the unsaved instance until sla_on_incident_created inserts them.
_PLANNED = "_sla_planned_timers"


def _new_timers(incident: Incident, at: datetime) -> list[SLATimer]:
    """The response and resolution timers of a new incident, unsaved, from its creation."""
    policy = policy_for_incident(incident)
    start = incident.created_at or at
    return [
        SLATimer(
            incident=incident,
            metric=metric,
            policy=policy,
            **_dimensions(incident),
            target_minutes=target_minutes(policy, metric) if policy else 0,
            started_at=start,
        )
        for metric in (TimerMetric.RESPONSE, TimerMetric.RESOLUTION)
    ]


def sla_on_incident_inserting(*, incident: Incident, at: datetime) -> None:
    """Before a new incident's row is written: plan its clocks and set its sla_due_at from
    them, so the insert writes the due instant (an UPDATE after it wrote the row and each of
    its two dozen indexes a second time). Only the usual case is planned, an incident
    counting from now; any other is left to sla_on_incident_created."""
    timers = _new_timers(incident, at)
    if _counting_from_start(incident, timers, at):
        incident.sla_due_at = _earliest_due(timers)
        setattr(incident, _PLANNED, timers)


def sla_on_incident_created(*, incident: Incident, at: datetime) -> None:
    """Start the response and resolution timers of a new incident at its creation."""
    planned = incident.__dict__.pop(_PLANNED, None)
    timers = planned if planned is not None else _new_timers(incident, at)
    if timers[0].policy_id is None:
        # Every incident has both clocks; without a policy they have no target (no due
        # instant) until a policy that matches is created or the incident changes.
        logger.info("no SLA policy matches %s (%s): timers without target", incident.key, incident.priority)
    if planned is not None:
        # Planned before the insert, which wrote their earliest due instant.
        SLATimer.objects.bulk_create(planned)
        _store_earliest_due(incident, planned)
        return
    if _counting_from_start(incident, timers, at):
        # The usual case, a new incident counting from now: both clocks in one insert,
        # their instants computed without reading pauses they cannot have yet.
        SLATimer.objects.bulk_create(timers)
        _store_earliest_due(incident, timers)
        return
    for timer in timers:
        timer.save()
    sync_timers(incident, timers, at=at, recompute=True)


def _counting_from_start(incident: Incident, timers: list[SLATimer], at: datetime) -> bool:
    """Set the instants of unsaved new timers when all of them simply count from their start
    with nothing reached yet (no warning or breach to record); False leaves them to
    sync_timers (a backdated incident, one logged on hold or already resolved)."""
    for timer in timers:
        if _desired_mode(incident, timer, False) != (COUNTING, ""):
            return False
        due, warn = _recompute(timer, at, closed_gaps=[])
        if (due is not None and due <= at) or (warn is not None and warn <= at):
            return False
        timer.state = _state_for(timer)
    return True


def sla_on_incident_changed(
    *,
    incident: Incident,
    changes: Mapping[str, tuple[Any, Any]],
    at: datetime,
    actor: AbstractBaseUser | None = None,
) -> None:
    """React to a change of an incident (`changes` maps field -> (old, new)).

    status and hold_reason stop, pause or resume the clocks; priority, service, customer
    and type choose the policy again and recompute the instants from the original start.
    """
    timers = locked_timers(incident)
    if DIMENSION_FIELDS & set(changes):
        dims = _dimensions(incident)
        SLATimer.objects.filter(incident_id=incident.pk).update(**dims)
        for timer in timers:  # the locked copies are saved again below: keep them current
            for name, value in dims.items():
                setattr(timer, name, value)
    reselect = any(f in changes for f in RESELECT_FIELDS)
    if not timers:
        if reselect:
            sla_on_incident_created(incident=incident, at=at)
        return
    recompute = False
    if reselect:
        policy = policy_for_incident(incident)
        if policy is not None:
            for timer in timers:
                target = target_minutes(policy, timer.metric)
                if timer.policy_id != policy.pk or timer.target_minutes != target:
                    timer.policy = policy
                    timer.target_minutes = target
                    recompute = True
    sync_timers(incident, timers, at=at, recompute=recompute)


def sla_on_public_reply(*, incident: Incident, at: datetime) -> None:
    """The first public reply meets the response timer."""
    timers = locked_timers(incident)
    sync_timers(incident, timers, at=at, replied=True)


# ------------------------------------------------------------------ internals
# The incident fields copied onto its timers for reporting (see SLATimer).
DIMENSION_FIELDS = {"priority", "team", "service", "customer"}


def _dimensions(incident: Incident) -> dict[str, Any]:
    return {
        "priority": incident.priority,
        "team_id": incident.team_id,
        "service_id": incident.service_id,
        "customer_id": incident.customer_id,
    }


def policy_for_incident(incident: Incident) -> SLAPolicy | None:
    return policy_for(
        priority=incident.priority,
        service_id=incident.service_id,
        customer_id=incident.customer_id,
        incident_type=incident.type,
    )


def target_minutes(policy: SLAPolicy, metric: str) -> int:
    return policy.response_minutes if metric == TimerMetric.RESPONSE else policy.resolution_minutes


def locked_timers(incident: Incident) -> list[SLATimer]:
    return list(
        SLATimer.objects.select_for_update(of=("self",))
        .select_related("policy__calendar")
        .filter(incident_id=incident.pk)
        .order_by("pk")
    )


def _pause_reasons(policy: SLAPolicy | None) -> list[str]:
    if policy is None:
        return default_pause_on()
    return list(policy.pause_on or [])


def _desired_mode(incident: Incident, timer: SLATimer, replied: bool) -> tuple[str, str]:
    if timer.metric == TimerMetric.RESPONSE:
        # Met once: a response never restarts.
        if not timer.is_active or replied or incident.responded_at:
            return STOPPED, ""
        if incident.status != Status.NEW:
            return STOPPED, CANCELLED_CAUSE if incident.status == Status.CANCELLED else ""
        return COUNTING, ""
    if incident.status in STOPPED_STATUSES:
        return STOPPED, CANCELLED_CAUSE if incident.status == Status.CANCELLED else ""
    if incident.status == Status.ON_HOLD and incident.hold_reason in _pause_reasons(timer.policy):
        return PAUSED, HOLD_CAUSE.get(incident.hold_reason, PauseCause.OTHER)
    return COUNTING, ""


def _current_mode(timer: SLATimer) -> tuple[str, str]:
    if not timer.is_active:
        return STOPPED, ""
    if timer.paused_at is not None:
        return PAUSED, timer.pause_cause
    return COUNTING, ""


def _apply_mode(timer: SLATimer, desired: tuple[str, str], at: datetime) -> bool:
    current = _current_mode(timer)
    if current == desired or current[0] == desired[0] == STOPPED:
        return False
    mode, cause = desired
    if current[0] == PAUSED:
        PausePeriod.objects.filter(timer=timer, ended_at__isnull=True).update(ended_at=at)
        timer.paused_at = None
        timer.pause_cause = ""
    if current[0] == STOPPED:
        # Reopened: the stretch while stopped does not count, elapsed time is kept.
        PausePeriod.objects.create(
            timer=timer, cause=PauseCause.STOPPED, started_at=timer.stopped_at or at, ended_at=at
        )
        timer.is_active = True
        timer.stopped_at = None
    if mode == PAUSED:
        PausePeriod.objects.create(timer=timer, cause=cause, started_at=at)
        timer.paused_at = at
        timer.pause_cause = cause
    elif mode == STOPPED:
        timer.is_active = False
        timer.stopped_at = at
        if cause == CANCELLED_CAUSE:
            timer.state = TimerState.CANCELLED
    return True


def _state_for(timer: SLATimer) -> str:
    if timer.breached_at is not None:
        return TimerState.BREACHED
    if not timer.is_active:
        return TimerState.CANCELLED if timer.state == TimerState.CANCELLED else TimerState.MET
    if timer.paused_at is not None:
        return TimerState.PAUSED
    return TimerState.RUNNING


def _recompute(
    timer: SLATimer, at: datetime, closed_gaps: list[tuple[datetime, datetime | None]] | None = None
) -> tuple[datetime | None, datetime | None]:
    """Due and warning instants from the original start, leaving out every pause and
    stopped stretch (`closed_gaps`: the ended pauses when the caller knows them, else read).
    Returns (due, warn) reached in counted time, None when not reached before an open pause
    or stop."""
    if timer.policy is None:
        return None, None
    cal = calendar_of(timer.policy.calendar)
    gaps: list[tuple[datetime, datetime | None]] = (
        list(closed_gaps)
        if closed_gaps is not None
        else [(p.started_at, p.ended_at) for p in timer.pauses.filter(ended_at__isnull=False)]
    )
    open_start = timer.paused_at if timer.is_active else timer.stopped_at
    if open_start is not None:
        gaps.append((open_start, None))
    target = timer.target_minutes * 60
    warn_target = target * timer.policy.warn_percent / 100
    due, _ = bcal.due_instant(cal, timer.started_at, target, gaps)
    warn, _ = bcal.due_instant(cal, timer.started_at, warn_target, gaps)
    if open_start is not None:
        timer.elapsed_seconds = bcal.counted_seconds(cal, timer.started_at, gaps, open_start)
    else:
        timer.elapsed_seconds = 0
    if timer.is_active and timer.paused_at is None or timer.is_active:
        timer.due_at, timer.warn_at = due, warn
    else:  # stopped: keep the instants it was running towards, for display
        timer.due_at = due or timer.due_at
        timer.warn_at = warn or timer.warn_at
    return due, warn


def sync_timers(
    incident: Incident,
    timers: list[SLATimer],
    *,
    at: datetime,
    recompute: bool | set[int] = False,
    replied: bool = False,
) -> None:
    """Bring the incident's timers (all of them) in line with it; `recompute` (True, or the
    ids of some timers) recomputes instants from the original start even without a change."""
    breaches: list[Fired] = []
    warnings: list[Fired] = []
    for timer in timers:
        changed = _apply_mode(timer, _desired_mode(incident, timer, replied), at)
        if not (changed or (timer.pk in recompute if isinstance(recompute, set) else recompute)):
            continue
        due, warn = _recompute(timer, at)
        if warn is not None and warn <= at and timer.warned_at is None:
            timer.warned_at = warn
            warnings.append((timer.pk, timer.incident_id, timer.metric, warn))
        if due is not None and due <= at and timer.breached_at is None:
            timer.breached_at = due
            breaches.append((timer.pk, timer.incident_id, timer.metric, due))
        timer.state = _state_for(timer)
        timer.save()
    _store_earliest_due(incident, timers)
    emit_events(SLAEventKind.WARNING, warnings, at)
    emit_events(SLAEventKind.BREACH, breaches, at)


def _earliest_due(timers: list[SLATimer]) -> datetime | None:
    return min((t.due_at for t in timers if t.is_active and t.due_at is not None), default=None)


def _store_earliest_due(incident: Incident, timers: list[SLATimer]) -> None:
    """Keep Incident.sla_due_at (the queue's "SLA urgency" sort key, indexed) equal to the
    earliest due instant of its still-counting timers. `timers` are all of the incident's."""
    due = _earliest_due(timers)
    if incident.sla_due_at != due:
        Incident.objects.filter(pk=incident.pk).update(sla_due_at=due)
        incident.sla_due_at = due
