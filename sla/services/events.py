"""A fired warning or breach: its SLAEvent, its entry in the incident's history, its
webhook, and the task that runs its actions, whichever path fired it (a lifecycle change,
the SQLite sweep, the PostgreSQL set-based sweep)."""

from __future__ import annotations

from datetime import UTC, datetime

from incidents.history import HistoryEntry, history_record_many
from tracker.tasks import enqueue_on_commit
from webhooks.models import Event
from webhooks.services import webhook_emit_many

from ..models import SLAEvent, SLAEventKind

# A timer that just fired: (timer id, incident id, metric, the instant it fired at).
Fired = tuple[int, int, str, datetime]


def history_event(kind: str) -> str:
    """The name of a fired event's entry in the incident's history."""
    return f"sla_{kind}"


def history_note_end(kind: str) -> str:
    """The note of that entry after the metric's name ("Resolution SLA breached.")."""
    return " SLA breached." if kind == SLAEventKind.BREACH else " SLA at risk (warning threshold passed)."


def emit_events(kind: str, rows: list[Fired], now: datetime, *, dispatch: bool = True) -> list[int]:
    """Append the SLAEvent and the incident timeline entry of warnings/breaches whose
    timers were just moved (by a conditional update), and queue their actions."""
    if not rows:
        return []
    events = SLAEvent.objects.bulk_create(
        [SLAEvent(timer_id=tid, kind=kind, at=at, detected_at=now) for tid, _inc, _m, at in rows]
    )
    history_record_many(
        HistoryEntry(
            incident_id=inc,
            at=at,
            event=history_event(kind),
            field=metric,
            new=at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            note=f"{metric.capitalize()}{history_note_end(kind)}",
        )
        for _tid, inc, metric, at in rows
    )
    emit_webhooks(kind, rows, now)
    ids = [e.pk for e in events]
    if dispatch:
        dispatch_events(ids)
    return ids


# Events per action task: a sweep that fires a thousand breaches at once queues forty
# tasks, so every worker process takes a share instead of one working through all of them.
EVENTS_PER_TASK = 25


def event_chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + EVENTS_PER_TASK] for i in range(0, len(ids), EVENTS_PER_TASK)]


def dispatch_events(ids: list[int]) -> None:
    """Queue the actions of fired events, after this commit."""
    from ..tasks import sla_handle_events  # the tasks module imports these services

    for chunk in event_chunks(ids):
        enqueue_on_commit(sla_handle_events, chunk)  # type: ignore[no-untyped-call]  # tracker.tasks is untyped


def emit_webhooks(kind: str, rows: list[Fired], now: datetime) -> None:
    """One `sla.warning` / `sla.breach` webhook per fired event, whichever path fired it
    (a lifecycle change, the SQLite sweep or the PostgreSQL set-based sweep)."""
    webhook_emit_many(
        Event.SLA_BREACH if kind == SLAEventKind.BREACH else Event.SLA_WARNING,
        [{"incident": inc, "metric": metric, "timer": tid, "at": at} for tid, inc, metric, at in rows],
        at=now,
    )
