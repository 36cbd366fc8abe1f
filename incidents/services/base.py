"""What every incident service shares: the row lock, applying field changes (one history
entry per changed field, the version bumped, the webhook and the SLA hook told), the history
entry of an action, field-error collection, and what the record is called.

Each service is one transaction: it locks the incident, checks its guard on the locked row,
writes the change and its history (incidents.history), and tells the SLA engine what changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accounts.models import User
from org.models import Team
from tracker.exceptions import StaleObject
from webhooks.models import Event
from webhooks.payloads import incident_payload
from webhooks.services import webhook_emit

from .. import hooks
from ..history import history_record
from ..models import Incident, IncidentEvent, IncidentType

# Who acts: a user, or None for Tandem itself (the SLA engine, a scheduled close, mail).
Actor = User | None
# What each field error says, as ValidationError takes it.
Errors = dict[str, list[str]]
# Fields whose change the SLA engine hears about.
SLA_FIELDS = {"status", "hold_reason", "priority", "service", "customer", "type", "team", "tier"}


def incident_lock(incident: Incident, expected_version: int | None = None) -> Incident:
    """Lock an incident row for this transaction and read it fresh (with a version check)."""
    # Lock the row alone, then read it with its relations: a FOR UPDATE over joins re-checks
    # a concurrently changed row against the *old* joined rows (PostgreSQL's EvalPlanQual),
    # so an incident whose team or assignee just changed would vanish from the result.
    Incident.objects.select_for_update().filter(pk=incident.pk).values_list("pk", flat=True).get()
    locked = Incident.objects.select_related("service", "team", "assignee", "customer").get(pk=incident.pk)
    if expected_version is not None and int(expected_version) != locked.version:
        raise StaleObject(
            f"{locked.key} was changed by someone else since you loaded it "
            f"(version {expected_version}, now {locked.version}). Reload and try again."
        )
    return locked


def record_event(
    incident: Incident,
    *,
    actor: Actor,
    at: datetime,
    event: str,
    field: str = "",
    old: object = "",
    new: object = "",
    note: str = "",
) -> IncidentEvent:
    return history_record(
        incident=incident, actor=actor, at=at, event=event, field=field, old=old, new=new, note=note
    )


def apply_changes(
    incident: Incident,
    *,
    actor: Actor,
    at: datetime,
    values: dict[str, Any],
    event: str = "field_changed",
    note: str = "",
) -> dict[str, tuple[Any, Any]]:
    """Set fields, write one history row per changed field, bump the version.

    Returns {field: (old, new)} of what actually changed.
    """
    changes: dict[str, tuple[Any, Any]] = {}
    for field, new in values.items():
        old = getattr(incident, field)
        if old == new:
            continue
        setattr(incident, field, new)
        # The note belongs to the action, so it is kept once, on its first change.
        record_event(
            incident,
            actor=actor,
            at=at,
            event=event,
            field=field,
            old=old,
            new=new,
            note="" if changes else note,
        )
        changes[field] = (old, new)
    if changes:
        incident.version += 1
        incident.save()
        webhook_emit(
            Event.INCIDENT_UPDATED, {**incident_payload(incident), "changed": sorted(changes)}, at=at
        )
        sla_changes = {
            f: ((o.pk if hasattr(o, "pk") else o), (n.pk if hasattr(n, "pk") else n))
            for f, (o, n) in changes.items()
            if f in SLA_FIELDS
        }
        if sla_changes:
            hooks.fire_incident_changed(incident=incident, changes=sla_changes, at=at, actor=actor)
    return changes


def require_value(errors: Errors, field: str, value: object, message: str) -> None:
    if value in (None, "") or (isinstance(value, str) and not value.strip()):
        errors[field] = [message]


def is_team_member(user: User | None, team: Team | None) -> bool:
    return user is not None and team is not None and team.members.filter(pk=user.pk).exists()


def record_noun(incident_type: str) -> str:
    """What the record is called in messages: "incident" or "service request"."""
    return "service request" if incident_type == IncidentType.SERVICE_REQUEST else "incident"
