"""SLA writes: timers following the incident lifecycle, the sweep that fires warnings and
breaches exactly once, and the calendar and policy settings.

The incidents service calls the three `sla_on_*` hooks inside its own transaction (with the
incident row locked), so a timer change and the incident change commit or roll back
together. Timer rows are locked in pk order before they change.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_created, audit_deleted, audit_snapshot, audit_updated
from notifications.services import notify_sla_event
from tracker.exceptions import DomainError
from tracker.sql import insert_select_parts
from tracker.tasks import enqueue_on_commit

from . import calendar as bcal
from .models import (
    BusinessCalendar,
    PauseCause,
    PausePeriod,
    SLAEvent,
    SLAEventKind,
    SLAPolicy,
    SLATimer,
    TimerMetric,
    TimerState,
    default_pause_on,
)
from .selectors import calendar_of, policy_for

logger = logging.getLogger(__name__)

HOLD_CAUSE = {
    "awaiting_customer": PauseCause.CUSTOMER,
    "awaiting_vendor": PauseCause.VENDOR,
    "awaiting_development": PauseCause.DEVELOPMENT,
}
HOLD_REASONS = tuple(HOLD_CAUSE)
STOPPED_STATUSES = ("resolved", "closed", "cancelled")
RESELECT_FIELDS = ("priority", "service", "customer", "type")

COUNTING, PAUSED, STOPPED = "counting", "paused", "stopped"
# Why a clock stopped, when it was because the incident was cancelled (see TimerState).
CANCELLED_CAUSE = "cancelled"


# ================================================================== lifecycle hooks
def sla_on_incident_created(*, incident, at):
    """Start the response and resolution timers of a new incident at its creation."""
    policy = _policy_for_incident(incident)
    if policy is None:
        # Every incident has both clocks; without a policy they have no target (no due
        # instant) until a policy that matches is created or the incident changes.
        logger.info("no SLA policy matches %s (%s): timers without target", incident.key, incident.priority)
    start = incident.created_at or at
    timers = [
        SLATimer.objects.create(
            incident=incident,
            metric=metric,
            policy=policy,
            **_dimensions(incident),
            target_minutes=_target(policy, metric) if policy else 0,
            started_at=start,
        )
        for metric in (TimerMetric.RESPONSE, TimerMetric.RESOLUTION)
    ]
    _sync(incident, timers, at=at, recompute=True)


def sla_on_incident_changed(*, incident, changes, at, actor=None):
    """React to a change of an incident (`changes` maps field -> (old, new)).

    status and hold_reason stop, pause or resume the clocks; priority, service, customer
    and type choose the policy again and recompute the instants from the original start.
    """
    timers = _locked_timers(incident)
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
        policy = _policy_for_incident(incident)
        if policy is not None:
            for timer in timers:
                target = _target(policy, timer.metric)
                if timer.policy_id != policy.pk or timer.target_minutes != target:
                    timer.policy = policy
                    timer.target_minutes = target
                    recompute = True
    _sync(incident, timers, at=at, recompute=recompute)


def sla_on_public_reply(*, incident, at):
    """The first public reply meets the response timer."""
    timers = _locked_timers(incident)
    _sync(incident, timers, at=at, replied=True)


# ------------------------------------------------------------------ internals
# The incident fields copied onto its timers for reporting (see SLATimer).
DIMENSION_FIELDS = {"priority", "team", "service", "customer"}


def _dimensions(incident) -> dict:
    return {
        "priority": incident.priority,
        "team_id": incident.team_id,
        "service_id": incident.service_id,
        "customer_id": incident.customer_id,
    }


def _policy_for_incident(incident) -> SLAPolicy | None:
    return policy_for(
        priority=incident.priority,
        service_id=incident.service_id,
        customer_id=incident.customer_id,
        incident_type=incident.type,
    )


def _target(policy: SLAPolicy, metric: str) -> int:
    return policy.response_minutes if metric == TimerMetric.RESPONSE else policy.resolution_minutes


def _locked_timers(incident) -> list[SLATimer]:
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


def _desired_mode(incident, timer: SLATimer, replied: bool) -> tuple[str, str]:
    if timer.metric == TimerMetric.RESPONSE:
        # Met once: a response never restarts.
        if not timer.is_active or replied or incident.responded_at:
            return STOPPED, ""
        if incident.status != "new":
            return STOPPED, CANCELLED_CAUSE if incident.status == "cancelled" else ""
        return COUNTING, ""
    if incident.status in STOPPED_STATUSES:
        return STOPPED, CANCELLED_CAUSE if incident.status == "cancelled" else ""
    if incident.status == "on_hold" and incident.hold_reason in _pause_reasons(timer.policy):
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


def _recompute(timer: SLATimer, at: datetime) -> tuple[datetime | None, datetime | None]:
    """Due and warning instants from the original start, leaving out every pause and
    stopped stretch. Returns (due, warn) reached in counted time, None when not reached
    before an open pause or stop."""
    if timer.policy is None:
        return None, None
    cal = calendar_of(timer.policy.calendar)
    gaps: list[tuple[datetime, datetime | None]] = [
        (p.started_at, p.ended_at) for p in timer.pauses.filter(ended_at__isnull=False)
    ]
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


def _sync(incident, timers: list[SLATimer], *, at: datetime, recompute: bool | set = False, replied=False):
    """Bring the incident's timers (all of them) in line with it; `recompute` (True, or the
    ids of some timers) recomputes instants from the original start even without a change."""
    breaches, warnings = [], []
    for timer in timers:
        changed = _apply_mode(timer, _desired_mode(incident, timer, replied), at)
        if not (changed or (timer.pk in recompute if isinstance(recompute, set) else recompute)):
            continue
        due, warn = _recompute(timer, at)
        if warn is not None and warn <= at and timer.warned_at is None:
            timer.warned_at = warn
            warnings.append(timer)
        if due is not None and due <= at and timer.breached_at is None:
            timer.breached_at = due
            breaches.append(timer)
        timer.state = _state_for(timer)
        timer.save()
    _store_earliest_due(incident, timers)
    _emit(SLAEventKind.WARNING, [(t.pk, t.incident_id, t.metric, t.warned_at) for t in warnings], at)
    _emit(SLAEventKind.BREACH, [(t.pk, t.incident_id, t.metric, t.breached_at) for t in breaches], at)


def _store_earliest_due(incident, timers: list[SLATimer]):
    """Keep Incident.sla_due_at (the queue's "SLA urgency" sort key, indexed) equal to the
    earliest due instant of its still-counting timers. `timers` are all of the incident's."""
    due = min((t.due_at for t in timers if t.is_active and t.due_at is not None), default=None)
    if getattr(incident, "sla_due_at", None) != due:
        type(incident).objects.filter(pk=incident.pk).update(sla_due_at=due)
        incident.sla_due_at = due


# ================================================================== events and the sweep
def _emit(
    kind: str, rows: list[tuple[int, int, str, datetime]], now: datetime, *, dispatch=True
) -> list[int]:
    """Append the SLAEvent and the incident timeline entry of warnings/breaches whose
    timers were just moved (by a conditional update), and queue their actions."""
    if not rows:
        return []
    from incidents.models import IncidentEvent

    events = SLAEvent.objects.bulk_create(
        [SLAEvent(timer_id=tid, kind=kind, at=at, detected_at=now) for tid, _inc, _m, at in rows]
    )
    word = "breached" if kind == SLAEventKind.BREACH else "at risk (warning threshold passed)"
    IncidentEvent.objects.bulk_create(
        [
            IncidentEvent(
                incident_id=inc,
                at=at,
                actor=None,
                event=f"sla_{kind}",
                field=metric,
                new=at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                note=f"{metric.capitalize()} SLA {word}.",
            )
            for _tid, inc, metric, at in rows
        ]
    )
    _emit_webhooks(kind, rows, now)
    ids = [e.pk for e in events]
    if dispatch:
        from .tasks import sla_handle_events

        enqueue_on_commit(sla_handle_events, ids)
    return ids


def _emit_webhooks(kind: str, rows: list[tuple[int, int, str, datetime]], now: datetime):
    """One `sla.warning` / `sla.breach` webhook per fired event, whichever path fired it
    (a lifecycle change, the SQLite sweep or the PostgreSQL set-based sweep)."""
    from webhooks.models import Event
    from webhooks.services import webhook_emit_many

    webhook_emit_many(
        Event.SLA_BREACH if kind == SLAEventKind.BREACH else Event.SLA_WARNING,
        [{"incident": inc, "metric": metric, "timer": tid, "at": at} for tid, inc, metric, at in rows],
        at=now,
    )


_SWEEP_COLUMNS = {
    SLAEventKind.BREACH: (
        "due_at",
        "breached_at",
        "state = 'running'",
        "state = 'breached', breached_at = due_at",
    ),
    SLAEventKind.WARNING: (
        "warn_at",
        "warned_at",
        "state = 'running' AND warned_at IS NULL",
        "warned_at = warn_at",
    ),
}


def sweep_candidates(kind: str, now: datetime, limit: int):
    """The sweep's query: running timers past their instant, oldest first, skipping rows
    another sweeper holds. Served by the partial indexes on running timers."""
    qs = SLATimer.objects.select_for_update(skip_locked=True).filter(state=TimerState.RUNNING)
    if kind == SLAEventKind.BREACH:
        qs = qs.filter(due_at__lte=now).order_by("due_at")
    else:
        qs = qs.filter(warned_at__isnull=True, warn_at__lte=now).order_by("warn_at")
    return qs.values_list("pk", flat=True)[:limit]


def _sweep_batch(kind: str, now: datetime, limit: int, dispatch: bool) -> int:
    if connection.vendor == "postgresql":
        return _sweep_batch_postgresql(kind, now, limit, dispatch)
    with transaction.atomic():
        ids = list(sweep_candidates(kind, now, limit))
        if not ids:
            return 0
        instant_col, _set_col, guard, assignment = _SWEEP_COLUMNS[kind]
        placeholders = ", ".join(["%s"] * len(ids))
        # The guard repeats the state test: a row changed since it was read is left alone.
        sql = (
            f"UPDATE {SLATimer._meta.db_table} SET {assignment} "  # noqa: S608 (constant names)
            f"WHERE id IN ({placeholders}) AND {guard} AND {instant_col} <= %s "
            f"RETURNING id, incident_id, metric, {instant_col}"
        )
        with connection.cursor() as cursor:
            # `now` as the database stores instants (SQLite compares text: UTC, no offset).
            cursor.execute(sql, [*ids, connection.ops.adapt_datetimefield_value(now)])
            rows = [(r[0], r[1], r[2], _aware(r[3])) for r in cursor.fetchall()]
        _emit(kind, rows, now, dispatch=dispatch)
        return len(rows)


def _timeline_insert_sql(kind: str) -> tuple[str, list]:
    """INSERT ... SELECT of the incident timeline rows from the `moved` CTE, filling any
    other NOT NULL column of IncidentEvent with its model default."""
    from incidents.models import IncidentEvent

    word = "breached" if kind == SLAEventKind.BREACH else "at risk (warning threshold passed)"
    special = {
        "incident": ("moved.incident_id", None),
        "at": ("moved.instant", None),
        "event": ("%s", f"sla_{kind}"),
        "field": ("moved.metric", None),
        "new": ("to_char(moved.instant AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')", None),
        "note": ("initcap(moved.metric) || %s", f" SLA {word}."),
    }
    columns, exprs, params = insert_select_parts(IncidentEvent, special)
    sql = (
        f"INSERT INTO {IncidentEvent._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(exprs)} FROM moved"
    )
    return sql, params


def _sweep_batch_postgresql(kind: str, now: datetime, limit: int, dispatch: bool) -> int:
    """One set-based statement per batch: lock the due rows (skipping those another
    sweeper holds), move them with the guard, append the events and the timeline."""
    instant_col, _set_col, guard, assignment = _SWEEP_COLUMNS[kind]
    table = SLATimer._meta.db_table
    timeline_sql, timeline_params = _timeline_insert_sql(kind)
    sql = f"""
        WITH picked AS (
            SELECT id FROM {table}
            WHERE {guard} AND {instant_col} <= %s
            ORDER BY {instant_col} LIMIT %s
            FOR UPDATE SKIP LOCKED
        ), moved AS (
            UPDATE {table} t SET {assignment}
            FROM picked WHERE t.id = picked.id AND t.{guard.replace(" AND ", " AND t.")}
            RETURNING t.id, t.incident_id, t.metric, t.{instant_col} AS instant
        ), events AS (
            INSERT INTO {SLAEvent._meta.db_table} (timer_id, kind, at, detected_at)
            SELECT id, %s, instant, %s FROM moved
            RETURNING id, timer_id
        ), timeline AS ({timeline_sql})
        SELECT events.id, moved.id, moved.incident_id, moved.metric, moved.instant
        FROM events JOIN moved ON moved.id = events.timer_id
    """  # noqa: S608 (table and column names are constants)
    with transaction.atomic(), connection.cursor() as cursor:
        # Not waiting for the WAL flush is safe here: a commit lost in a crash loses the
        # whole batch (rows stay running, no events), and the next sweep redoes it.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(sql, [now, limit, kind, now, *timeline_params])
        rows = cursor.fetchall()
        ids = [r[0] for r in rows]
        # The same webhook the other paths send (_emit), recorded in this transaction.
        _emit_webhooks(kind, [(tid, inc, metric, _aware(at)) for _id, tid, inc, metric, at in rows], now)
        if ids and dispatch:
            from .tasks import sla_handle_events

            enqueue_on_commit(sla_handle_events, ids)
    return len(ids)


def _aware(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def sla_sweep_tick(*, now: datetime | None = None, batch_size=1000, dispatch=True, max_seconds=None) -> dict:
    """One sweep: fire every warning and breach whose instant has passed, in batches of
    one transaction each. Safe with any number of concurrent sweepers, repeated runs and
    a sweeper killed mid-batch (its transaction rolls back and the rows are swept again).
    After downtime it catches up; breached_at is the due instant, not detection time."""
    now = now or timezone.now()
    started = timezone.now()
    counts = {"warnings": 0, "breaches": 0, "requeued": 0, "more": False}
    for kind, key in ((SLAEventKind.WARNING, "warnings"), (SLAEventKind.BREACH, "breaches")):
        while True:
            done = _sweep_batch(kind, now, batch_size, dispatch)
            counts[key] += done
            if done < batch_size:
                break
            if max_seconds is not None and (timezone.now() - started).total_seconds() > max_seconds:
                counts["more"] = True  # a backlog remains: the caller may fan out
                break
    if dispatch:
        counts["requeued"] = requeue_unhandled_events(now=now)
    return counts


def requeue_unhandled_events(*, now: datetime, older_than=timedelta(minutes=2), limit=1000) -> int:
    """Events whose action task was lost (broker down at commit) are queued again."""
    ids = list(
        SLAEvent.objects.filter(handled_at__isnull=True, detected_at__lte=now - older_than)
        .order_by("detected_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        from tracker.tasks import enqueue

        from .tasks import sla_handle_events

        enqueue(sla_handle_events, ids)
    return len(ids)


# ------------------------------------------------------------------ event actions
def sla_event_handle(*, event_id: int, now: datetime | None = None) -> bool:
    """Run a fired event's actions once: the notifications, and for a breach the policy's
    escalation and major-incident declaration (see `_breach_actions` for when those act).
    False when already handled (or being handled by another worker)."""
    now = now or timezone.now()
    with transaction.atomic():
        event = (
            SLAEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("timer__policy", "timer__incident__assignee", "timer__incident__team__lead")
            .filter(pk=event_id, handled_at__isnull=True)
            .first()
        )
        if event is None:
            return False
        timer, policy = event.timer, event.timer.policy
        if event.kind == SLAEventKind.BREACH:
            if policy is None or policy.notify_on_breach:
                notify_sla_event(event=event, breach=True, managers=True)
            if policy is not None and (policy.escalate_on_breach or policy.declare_major_on_breach):
                _breach_actions(event, policy, now=now)
        elif timer.breached_at is None or timer.breached_at > now:
            notify_sla_event(event=event, breach=False, managers=False)
        event.handled_at = now
        event.save(update_fields=["handled_at"])
    return True


# History entries after which an incident is no longer where its breach found it.
MOVED_ON_EVENTS = {
    "escalated": "it was escalated",
    "de_escalated": "it was de-escalated",
    "transferred": "it was transferred",
    "escalated_to_development": "it was escalated to development",
    "development_done": "it came back from development",
    "development_deployed": "it came back from development",
    "development_cancelled": "it came back from development",
}


def breach_action_fresh_window() -> timedelta:
    from django.conf import settings

    return timedelta(minutes=float(getattr(settings, "SLA_BREACH_ACTION_FRESH_MINUTES", 15)))


def _utc(instant: datetime) -> str:
    return f"{instant.astimezone(UTC):%d %b %Y %H:%M} UTC"


def _late_by(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def _moved_on(event: SLAEvent, incident, timer: SLATimer) -> list[str]:
    """Why the incident is no longer in the state its breach found it (empty: it is)."""
    from incidents.models import IncidentEvent

    reasons = []
    if not incident.is_open:
        reasons.append(f"it is {incident.get_status_display().lower()} now")
    elif not timer.is_active:
        reasons.append(f"its {timer.metric} clock has stopped since")
    if incident.is_open and incident.hold_reason == "awaiting_development":
        reasons.append("it is on hold awaiting development")
    if incident.team.is_development:
        reasons.append(f"it is with the development team {incident.team}")
    since = (
        IncidentEvent.objects.filter(incident_id=incident.pk, at__gt=event.at, event__in=MOVED_ON_EVENTS)
        .order_by("at", "id")
        .values_list("event", "at")
    )
    seen = set()
    for kind, at in since:
        text = f"{MOVED_ON_EVENTS[kind]} since the breach ({_utc(at)})"
        if MOVED_ON_EVENTS[kind] not in seen:
            seen.add(MOVED_ON_EVENTS[kind])
            reasons.append(text)
    return reasons


def _next_support_group(incident):
    """The support group one tier up, never a development team and never past the support
    tiers; one the assignee belongs to first (so the case stays with them), then by name."""
    from django.db.models import Exists, OuterRef

    from org.models import Team

    if incident.tier >= 3:
        return None
    groups = Team.objects.filter(tier=incident.tier + 1, is_development=False)
    if incident.assignee_id:
        members = Team.members.through.objects.filter(team_id=OuterRef("pk"), user_id=incident.assignee_id)
        groups = groups.annotate(has_assignee=Exists(members)).order_by("-has_assignee", "name")
    else:
        groups = groups.order_by("name")
    return groups.first()


def _breach_actions(event: SLAEvent, policy: SLAPolicy, *, now: datetime):
    """A breach acts on the incident as it is now, and only while the breach is fresh.

    Escalation and the major-incident declaration run only when the breach is handled
    within SLA_BREACH_ACTION_FRESH_MINUTES (default 15) of its instant and the incident
    is still where the breach found it: open with the clock counting, not with
    development, and not escalated, transferred or sent to development since the breach.
    Otherwise (a catch-up after downtime, a lost task re-queued late, a breach found by a
    recompute long after its instant) the action is skipped and the timeline says why;
    the notifications were sent all the same.

    Escalation goes to a support group of the next tier only (never a development team,
    never past tier 3). The assignee stays when they belong to that group (one they belong
    to is preferred); otherwise they are unassigned, told so, and the timeline says so.
    """
    from incidents import services as incident_services
    from incidents.models import IncidentEvent
    from tracker.exceptions import DomainError

    incident = incident_services.incident_lock(event.timer.incident)
    timer = SLATimer.objects.get(pk=event.timer_id)
    metric = timer.metric
    breach = f"the {metric} SLA ({policy.name}) breached at {_utc(event.at)}"
    late = now - event.at
    window = breach_action_fresh_window()
    reasons = _moved_on(event, incident, timer)
    if late > window:
        reasons.insert(
            0,
            f"the breach is {_late_by(late)} old and breach actions act only within "
            f"{_late_by(window)} of a breach",
        )
    skipped: list[str] = []
    wanted = [
        name
        for name, on in (
            ("escalation", policy.escalate_on_breach),
            ("major-incident declaration", policy.declare_major_on_breach),
        )
        if on
    ]
    if reasons:
        skipped = wanted
    else:
        if policy.escalate_on_breach:
            why = _breach_escalate(incident, breach=breach)
            if why:
                skipped.append("escalation")
                reasons.append(why)
        if policy.declare_major_on_breach and not incident.is_major:
            try:
                with transaction.atomic():
                    incident_services.incident_declare_major(
                        incident=incident, actor=None, note=f"Declared major automatically because {breach}."
                    )
            except DomainError as exc:
                skipped.append("major-incident declaration")
                reasons.append(str(exc))
    if not skipped:
        return
    detected = f" detected late ({_late_by(late)} after)" if late > window else ""
    IncidentEvent.objects.create(
        incident_id=incident.pk,
        at=now,
        actor=None,
        event="sla_breach_action",
        field=metric,
        new="skipped",
        note=(
            f"{metric.capitalize()} SLA breach at {_utc(event.at)}{detected}; "
            f"automatic {' and '.join(skipped)} skipped because {'; '.join(reasons)}."
            + (" The assignee, group lead and managers were notified." if policy.notify_on_breach else "")
        ),
    )


def _breach_escalate(incident, *, breach: str) -> str:
    """Escalate one support tier up; returns why not ("" when it did)."""
    from incidents import services as incident_services
    from notifications.services import notify_unassigned
    from org.models import ServiceSupportModel
    from tracker.exceptions import DomainError

    if incident.service.support_model == ServiceSupportModel.SWARM:
        return f"{incident.service} is supported by swarming (no hand-offs)"
    team = _next_support_group(incident)
    if team is None:
        if incident.tier >= 3:
            return f"it is at tier {incident.tier}, the last support tier"
        return f"there is no support group at tier {incident.tier + 1}"
    assignee = incident.assignee
    keeps = assignee is None or team.members.filter(pk=assignee.pk).exists()
    note = f"Escalated to {team} (tier {team.tier}) automatically because {breach}."
    if assignee is not None:
        note += (
            f" {assignee.display_name} stays assigned."
            if keeps
            else f" {assignee.display_name} is not in {team}, so is unassigned and was told."
        )
    try:
        with transaction.atomic():
            incident_services.incident_escalate(incident=incident, actor=None, team=team, note=note)
    except (DomainError, ValidationError) as exc:
        logger.info("SLA escalation of %s refused: %s", incident.key, exc)
        return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    if not keeps:
        notify_unassigned(incident=incident, user=assignee, reason=note, inline_email=True)
    return ""


# ================================================================== settings
CALENDAR_FIELDS = ("name", "timezone", "always_open", "hours", "holidays", "country", "subdivision")
POLICY_FIELDS = (
    "name",
    "priority",
    "service",
    "customer",
    "incident_type",
    "response_minutes",
    "resolution_minutes",
    "calendar",
    "warn_percent",
    "pause_on",
    "notify_on_breach",
    "escalate_on_breach",
    "declare_major_on_breach",
    "active",
)


def _clean_calendar(calendar: BusinessCalendar):
    errors: dict[str, list[str]] = {}
    try:
        parsed = bcal.parse_calendar(
            timezone=calendar.timezone,
            hours=calendar.hours,
            holidays=calendar.holidays,
            country=calendar.country,
            subdivision=calendar.subdivision,
            always_open=calendar.always_open,
        )
    except bcal.CalendarError as exc:
        errors.update(exc.errors)
    else:
        # Store the normalised form: sorted ISO dates, merged intervals, upper-case codes.
        calendar.hours = bcal.format_hours(parsed.weekly)
        calendar.holidays = sorted(d.isoformat() for d in parsed.holidays)
        calendar.country, calendar.subdivision = parsed.country, parsed.subdivision
    try:
        calendar.full_clean(exclude=["hours", "holidays"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def calendar_create(*, actor=None, **data) -> BusinessCalendar:
    calendar = BusinessCalendar(**{k: v for k, v in data.items() if k in CALENDAR_FIELDS})
    _clean_calendar(calendar)
    calendar.save()
    _request_retarget(SLAPolicy.objects.filter(calendar=calendar))
    audit_created(actor=actor, instance=calendar, fields=CALENDAR_FIELDS)
    return calendar


@transaction.atomic
def calendar_update(*, calendar: BusinessCalendar, actor=None, **data) -> BusinessCalendar:
    # NO KEY UPDATE: a policy saved meanwhile may still reference the calendar.
    calendar = BusinessCalendar.objects.select_for_update(no_key=True).get(pk=calendar.pk)
    before = audit_snapshot(calendar, CALENDAR_FIELDS)
    for field, value in data.items():
        if field in CALENDAR_FIELDS:
            setattr(calendar, field, value)
    _clean_calendar(calendar)
    calendar.save()
    _request_retarget(SLAPolicy.objects.filter(calendar=calendar))
    audit_updated(actor=actor, instance=calendar, before=before)
    return calendar


@transaction.atomic
def calendar_delete(*, calendar: BusinessCalendar, actor=None) -> None:
    """Delete a calendar no policy uses (a policy's calendar is protected)."""
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    if calendar.policies.exists():
        raise DomainError(
            f"The calendar “{calendar}” is used by SLA policies: give them another calendar first."
        )
    audit_deleted(actor=actor, instance=calendar, before=audit_snapshot(calendar, CALENDAR_FIELDS))
    calendar.delete()


def _clean_policy(policy: SLAPolicy):
    errors: dict[str, list[str]] = {}
    try:
        policy.full_clean(exclude=["pause_on"])
    except ValidationError as exc:
        errors.update({k: list(v) for k, v in exc.message_dict.items()})
    pause_on = policy.pause_on if policy.pause_on is not None else []
    if not isinstance(pause_on, list) or any(r not in HOLD_REASONS for r in pause_on):
        errors["pause_on"] = [f"Choose hold reasons among: {', '.join(HOLD_REASONS)}."]
    else:
        policy.pause_on = [r for r in HOLD_REASONS if r in pause_on]
    if policy.warn_percent is not None and not 1 <= policy.warn_percent <= 100:
        errors.setdefault("warn_percent", []).append("Give a percentage between 1 and 100.")
    for field in ("response_minutes", "resolution_minutes"):
        value = getattr(policy, field)
        if value is not None and value < 1 and field not in errors:
            errors[field] = ["Give a target of at least one business minute."]
    if (
        policy.response_minutes
        and policy.resolution_minutes
        and policy.response_minutes > policy.resolution_minutes
        and "resolution_minutes" not in errors
    ):
        errors["resolution_minutes"] = ["The resolution target cannot be shorter than the response target."]
    if policy.incident_type and policy.incident_type not in ("incident", "service_request"):
        errors["incident_type"] = ["Choose incident or service_request, or leave empty for both."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def policy_create(*, actor=None, **data) -> SLAPolicy:
    data.setdefault("pause_on", default_pause_on())
    policy = SLAPolicy(**{k: v for k, v in data.items() if k in POLICY_FIELDS})
    _clean_policy(policy)
    policy.save()
    _adopt_policy(policy)
    # Clocks running under a less specific policy of that priority may match this one now.
    _request_retarget(SLAPolicy.objects.filter(priority=policy.priority).exclude(pk=policy.pk))
    audit_created(actor=actor, instance=policy, fields=POLICY_FIELDS)
    return policy


def _adopt_policy(policy: SLAPolicy, limit=10_000):
    """Timers still without a policy (none matched when their incident was logged) take a
    newly created or re-activated policy that matches them, from their original start."""
    if not policy.active:
        return
    waiting = SLATimer.objects.filter(policy__isnull=True, is_active=True, incident__priority=policy.priority)
    if policy.service_id:
        waiting = waiting.filter(incident__service_id=policy.service_id)
    if policy.customer_id:
        waiting = waiting.filter(incident__customer_id=policy.customer_id)
    if policy.incident_type:
        waiting = waiting.filter(incident__type=policy.incident_type)
    from incidents.models import Incident

    now = timezone.now()
    ids = waiting.values_list("incident_id", flat=True).distinct()[:limit]
    for incident in Incident.objects.filter(pk__in=list(ids)).order_by("pk"):
        sla_on_incident_changed(incident=incident, changes={"priority": (incident.priority,) * 2}, at=now)


@transaction.atomic
def policy_update(*, policy: SLAPolicy, actor=None, **data) -> SLAPolicy:
    # Every policy a retarget request may touch (same priority, before and after) is locked
    # up front, in key order, so two edits at once queue instead of deadlocking.
    current = SLAPolicy.objects.filter(pk=policy.pk).values_list("priority", flat=True).get()
    priorities = {current, data.get("priority") or current}
    _lock_policies(SLAPolicy.objects.filter(Q(pk=policy.pk) | Q(priority__in=priorities)))
    policy = SLAPolicy.objects.get(pk=policy.pk)
    audited = audit_snapshot(policy, POLICY_FIELDS)
    before = {field: getattr(policy, field) for field in RETARGET_FIELDS}
    for field, value in data.items():
        if field in POLICY_FIELDS:
            setattr(policy, field, value)
    _clean_policy(policy)
    policy.save()
    _adopt_policy(policy)
    if any(getattr(policy, field) != old for field, old in before.items()):
        same_priority = SLAPolicy.objects.filter(priority__in={policy.priority, before["priority"]})
        _request_retarget(same_priority)
    audit_updated(actor=actor, instance=policy, before=audited)
    return policy


@transaction.atomic
def policy_delete(*, policy: SLAPolicy, actor=None) -> None:
    """Delete a policy; the clocks it ran keep their instants and lose their policy."""
    policy = SLAPolicy.objects.select_for_update().get(pk=policy.pk)
    audit_deleted(actor=actor, instance=policy, before=audit_snapshot(policy, POLICY_FIELDS))
    policy.delete()


# Edits that change what a policy's running clocks are due by, or which incidents it matches.
RETARGET_FIELDS = (
    "priority",
    "service_id",
    "customer_id",
    "incident_type",
    "response_minutes",
    "resolution_minutes",
    "calendar_id",
    "warn_percent",
    "pause_on",
    "active",
)


def _lock_policies(policies) -> list[int]:
    """Lock policy rows in key order (the one order every writer uses); returns their keys."""
    return list(policies.select_for_update(no_key=True).order_by("pk").values_list("pk", flat=True))


def _request_retarget(policies):
    """Ask for the clocks these policies run to be recomputed, after this commit."""
    from .tasks import sla_policy_retarget

    pks = _lock_policies(policies)
    SLAPolicy.objects.filter(pk__in=pks).update(retarget_requested_at=timezone.now())
    for pk in pks:
        enqueue_on_commit(sla_policy_retarget, pk)


# A retarget run holds its policy for this long without news before another may take over.
RETARGET_LEASE = timedelta(minutes=5)


def policies_awaiting_retarget(*, now: datetime, older_than=timedelta(minutes=2)) -> list[int]:
    """Requests whose task never ran (the broker was down) or whose run died: the sweep
    queues them again. A run in progress (its lease fresh) is left alone."""
    return list(
        SLAPolicy.objects.filter(retarget_requested_at__lte=now - older_than)
        .filter(Q(retarget_started_at__isnull=True) | Q(retarget_started_at__lt=now - RETARGET_LEASE))
        .values_list("pk", flat=True)
    )


def policy_retarget(*, policy_id: int, at: datetime | None = None, batch=200) -> int:
    """Recompute the clocks a policy still runs (running or paused) after it or its calendar
    was edited: each takes the policy that matches its incident now (the same one, edited,
    or a more specific one; the same one when none matches any more), and its due instant is
    worked out again from the clock's original start with that policy's targets and
    calendar. Stretches already spent paused stay left out; the pause rules apply from now
    on (a clock on hold for a reason that no longer pauses resumes counting). Clocks already
    met or breached keep their outcome. Idempotent: run twice, the same instants; a breach
    fires once; one run per policy at a time (a lease). Returns the incidents done."""
    now = timezone.now()
    mine = SLAPolicy.objects.filter(pk=policy_id)
    # Take the lease: one run per policy at a time (a duplicate task returns at once).
    claimed = (
        mine.filter(retarget_requested_at__isnull=False)
        .filter(Q(retarget_started_at__isnull=True) | Q(retarget_started_at__lt=now - RETARGET_LEASE))
        .update(retarget_started_at=now)
    )
    if not claimed:
        return 0
    requested = mine.values_list("retarget_requested_at", flat=True).get()
    done, last = 0, 0
    try:
        while True:
            ids = list(
                SLATimer.objects.filter(policy_id=policy_id, is_active=True, incident_id__gt=last)
                .order_by("incident_id")
                .values_list("incident_id", flat=True)
                .distinct()[:batch]
            )
            if not ids:
                break
            for incident_id in ids:
                _retarget_incident(incident_id, policy_id, at or timezone.now())
            done += len(ids)
            last = ids[-1]
            mine.update(retarget_started_at=timezone.now())  # still at it: keep the lease
        # Done, unless another edit asked again meanwhile (then its own task runs).
        mine.filter(retarget_requested_at=requested).update(retarget_requested_at=None)
    finally:
        mine.update(retarget_started_at=None)
    return done


@transaction.atomic
def _retarget_incident(incident_id: int, policy_id: int, at: datetime):
    from incidents.models import Incident
    from incidents.services import incident_lock

    incident = incident_lock(Incident(pk=incident_id))
    timers = _locked_timers(incident)
    chosen = _policy_for_incident(incident)
    again = set()
    for timer in timers:
        if not timer.is_active or timer.policy_id != policy_id:
            continue
        timer.policy = chosen or timer.policy
        timer.target_minutes = _target(timer.policy, timer.metric)
        again.add(timer.pk)
    if again:
        _sync(incident, timers, at=at, recompute=again)
