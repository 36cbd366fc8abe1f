"""The one writer of an incident's history (`IncidentEvent`).

Every entry of the timeline is appended here, inside the caller's transaction: by the
incidents services and by the apps above that act on an incident (the SLA clocks and
breach actions, escalation). Three ways in, for three shapes of write:

- `history_record`: one entry, now;
- `history_record_many`: many entries in one INSERT (a batch of SLA warnings);
- `history_insert_select`: the statement a set-based SQL sweep embeds to append one
  entry per row of its own result, so the entries commit with the rows that caused them.

Values are kept as text (`history_text`): None as "", anything else as its `str()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from tracker.sql import insert_select_parts

from .models import Incident, IncidentEvent

Actor = AbstractBaseUser | AnonymousUser | None


def history_text(value: object) -> str:
    """How a value is kept in the history: None as "", anything else as its text."""
    return "" if value is None else str(value)


def _actor_id(actor: Actor) -> int | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    pk: int | None = actor.pk
    return pk


@dataclass(frozen=True)
class HistoryEntry:
    """One entry to append, by the incident's id (the set-based callers hold no rows)."""

    incident_id: int
    at: datetime
    event: str
    field: str = ""
    old: object = None
    new: object = None
    note: str = ""
    actor_id: int | None = None

    def row(self) -> IncidentEvent:
        return IncidentEvent(
            incident_id=self.incident_id,
            at=self.at,
            actor_id=self.actor_id,
            event=self.event,
            field=self.field,
            old=history_text(self.old),
            new=history_text(self.new),
            note=self.note or "",
        )


def history_record(
    *,
    incident: Incident,
    actor: Actor,
    at: datetime,
    event: str,
    field: str = "",
    old: object = None,
    new: object = None,
    note: str = "",
) -> IncidentEvent:
    """Append one entry to `incident`'s history."""
    entry = HistoryEntry(
        incident_id=incident.pk,
        at=at,
        event=event,
        field=field,
        old=old,
        new=new,
        note=note,
        actor_id=_actor_id(actor),
    )
    row = entry.row()
    row.save(force_insert=True)
    return row


def history_record_many(entries: Iterable[HistoryEntry]) -> list[IncidentEvent]:
    """Append many entries in one INSERT."""
    rows = [entry.row() for entry in entries]
    return IncidentEvent.objects.bulk_create(rows) if rows else []


def history_insert_select(*, source: str, columns: Mapping[str, tuple[str, Any]]) -> tuple[str, list[Any]]:
    """`INSERT INTO <history> (...) SELECT ... FROM <source>` and its parameters.

    `columns` maps an IncidentEvent field to (SQL expression over `source`, parameter or
    None), as `tracker.sql.insert_select_parts` takes it; `incident`, `at` and `event` are
    required. Every other NOT NULL column (today `old`, the text fields left out) gets its
    model default, whatever fields the history has by then. `source` is a relation name of
    the caller's statement (a CTE), never user input.
    """
    missing = {"incident", "at", "event"} - set(columns)
    if missing:
        raise ValueError(f"a history entry needs {', '.join(sorted(missing))}")
    names, exprs, params = insert_select_parts(IncidentEvent, dict(columns))
    sql = (
        f"INSERT INTO {IncidentEvent._meta.db_table} ({', '.join(names)}) "  # noqa: S608 (constant names)
        f"SELECT {', '.join(exprs)} FROM {source}"
    )
    return sql, params
