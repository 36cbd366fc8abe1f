"""A fired warning or breach: its SLAEvent, its entry in the incident's history, its
webhook, and the task that runs its actions, whichever path fired it (a lifecycle change,
the SQLite sweep, the PostgreSQL set-based sweep)."""

from __future__ import annotations

from datetime import UTC, datetime

from incidents.models import IncidentEvent
from tracker.tasks import enqueue_on_commit
from webhooks.models import Event
from webhooks.services import webhook_emit_many

from ..models import SLAEvent, SLAEventKind


def emit_events(
    kind: str, rows: list[tuple[int, int, str, datetime]], now: datetime, *, dispatch=True
) -> list[int]:
    """Append the SLAEvent and the incident timeline entry of warnings/breaches whose
    timers were just moved (by a conditional update), and queue their actions."""
    if not rows:
        return []
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
    emit_webhooks(kind, rows, now)
    ids = [e.pk for e in events]
    if dispatch:
        dispatch_events(ids)
    return ids


def dispatch_events(ids):
    """Queue the actions of fired events, after this commit."""
    from ..tasks import sla_handle_events  # the tasks module imports these services

    enqueue_on_commit(sla_handle_events, ids)


def emit_webhooks(kind: str, rows: list[tuple[int, int, str, datetime]], now: datetime):
    """One `sla.warning` / `sla.breach` webhook per fired event, whichever path fired it
    (a lifecycle change, the SQLite sweep or the PostgreSQL set-based sweep)."""
    webhook_emit_many(
        Event.SLA_BREACH if kind == SLAEventKind.BREACH else Event.SLA_WARNING,
        [{"incident": inc, "metric": metric, "timer": tid, "at": at} for tid, inc, metric, at in rows],
        at=now,
    )
