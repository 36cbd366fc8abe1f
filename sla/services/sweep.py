"""The sweep: fires every warning and breach whose instant has passed, exactly once, in
batches of one transaction each. PostgreSQL runs one set-based statement per batch; any
other database (SQLite, the embedded default) a guarded UPDATE ... RETURNING."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from incidents.history import history_insert_select
from tracker.tasks import enqueue

from ..models import SLAEvent, SLAEventKind, SLATimer, TimerState
from .events import dispatch_events, emit_events, emit_webhooks, event_chunks, history_event, history_note_end

_RUNNING, _BREACHED = TimerState.RUNNING.value, TimerState.BREACHED.value
# kind -> (instant column, column set, the guard a row must still pass, the assignment)
_SWEEP_COLUMNS: dict[str, tuple[str, str, str, str]] = {
    SLAEventKind.BREACH: (
        "due_at",
        "breached_at",
        f"state = '{_RUNNING}'",
        f"state = '{_BREACHED}', breached_at = due_at",
    ),
    SLAEventKind.WARNING: (
        "warn_at",
        "warned_at",
        f"state = '{_RUNNING}' AND warned_at IS NULL",
        "warned_at = warn_at",
    ),
}


def sweep_candidates(kind: str, now: datetime, limit: int) -> QuerySet[SLATimer, int]:
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
        emit_events(kind, rows, now, dispatch=dispatch)
        return len(rows)


def _timeline_insert_sql(kind: str) -> tuple[str, list[Any]]:
    """The incidents app's INSERT ... SELECT of the history entries, one per row of the
    `moved` CTE, worded as `emit_events` words them."""
    return history_insert_select(
        source="moved",
        columns={
            "incident": ("moved.incident_id", None),
            "at": ("moved.instant", None),
            "event": ("%s", history_event(kind)),
            "field": ("moved.metric", None),
            "new": ("to_char(moved.instant AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')", None),
            "note": ("initcap(moved.metric) || %s", history_note_end(kind)),
        },
    )


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
        # The same webhook the other paths send (emit_events), recorded in this transaction.
        emit_webhooks(kind, [(tid, inc, metric, _aware(at)) for _id, tid, inc, metric, at in rows], now)
        if ids and dispatch:
            dispatch_events(ids)
    return len(ids)


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def sla_sweep_tick(
    *,
    now: datetime | None = None,
    batch_size: int = 1000,
    dispatch: bool = True,
    max_seconds: float | None = None,
) -> dict[str, int]:
    """One sweep: fire every warning and breach whose instant has passed, in batches of
    one transaction each. Safe with any number of concurrent sweepers, repeated runs and
    a sweeper killed mid-batch (its transaction rolls back and the rows are swept again).
    After downtime it catches up; breached_at is the due instant, not detection time."""
    now = now or timezone.now()
    started = timezone.now()
    # "more" is a flag (False/True): a backlog remains.
    counts: dict[str, int] = {"warnings": 0, "breaches": 0, "requeued": 0, "more": False}
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


def requeue_unhandled_events(
    *, now: datetime, older_than: timedelta = timedelta(minutes=2), limit: int = 1000
) -> int:
    """Events whose action task was lost (broker down at commit) are queued again."""
    ids = list(
        SLAEvent.objects.filter(handled_at__isnull=True, detected_at__lte=now - older_than)
        .order_by("detected_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        from ..tasks import sla_handle_events  # cycle: sla.tasks imports sla.services

        for chunk in event_chunks(ids):
            enqueue(sla_handle_events, chunk)  # type: ignore[no-untyped-call]  # tracker.tasks is untyped
    return len(ids)
