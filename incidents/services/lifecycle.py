"""The one lifecycle (ALLOWED_TRANSITIONS): status transitions with what each target
needs, and the scheduled close of resolved incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tracker.exceptions import TransitionNotAllowed
from webhooks.models import Event
from webhooks.payloads import incident_payload
from webhooks.services import webhook_emit

from .. import hooks
from ..models import HoldReason, Incident, ResolutionCode, Status
from .base import Actor, Errors, apply_changes, incident_lock, record_event, record_noun

# The one lifecycle. Reopen is resolved -> in_progress; cancel only before work is done.
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED, Status.CANCELLED),
    Status.IN_PROGRESS: (Status.ON_HOLD, Status.RESOLVED, Status.CANCELLED),
    # on hold -> on hold changes what the incident waits on (the reason must differ).
    Status.ON_HOLD: (Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED),
    Status.RESOLVED: (Status.IN_PROGRESS, Status.CLOSED),
    Status.CLOSED: (),
    Status.CANCELLED: (),
}


def allowed_next_statuses(status: str) -> tuple[str, ...]:
    return ALLOWED_TRANSITIONS.get(status, ())


@transaction.atomic
def incident_transition(
    *,
    incident: Incident,
    actor: Actor,
    status: str,
    reason: str = "",
    resolution_code: str = "",
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Incident:
    """Move an incident along ALLOWED_TRANSITIONS.

    on_hold needs a hold reason (on hold -> on hold changes it), resolved a resolution code
    and a note, cancelled a reason; reopening (resolved -> in_progress) clears the resolution.
    """
    at = at or timezone.now()
    if status not in Status.values:
        raise ValidationError(
            {"status": [f"Unknown status “{status}”. Use one of: {', '.join(Status.values)}."]}
        )
    incident = incident_lock(incident, expected_version)
    noun = record_noun(incident.type)
    current = incident.status
    allowed = allowed_next_statuses(current)
    if status not in allowed:
        nexts = ", ".join(allowed) if allowed else "none (it is final)"
        raise TransitionNotAllowed(
            f"{incident.key} cannot go from {current} to {status}. Allowed next states: {nexts}."
        )

    values: dict[str, Any] = {"status": status}
    event_note = (note or "").strip()
    if status == Status.ON_HOLD:
        if reason not in HoldReason.values:
            raise ValidationError(
                {"reason": [f"Say what the {noun} waits on: {', '.join(HoldReason.values)}."]}
            )
        if current == Status.ON_HOLD and reason == incident.hold_reason:
            raise ValidationError(
                {"reason": [f"{incident.key} already waits on that; choose what it waits on now."]}
            )
        values["hold_reason"] = reason
    else:
        values["hold_reason"] = ""
    if status == Status.RESOLVED:
        errors: Errors = {}
        if resolution_code not in ResolutionCode.values:
            errors["resolution_code"] = [f"Choose a resolution code: {', '.join(ResolutionCode.values)}."]
        if not event_note:
            errors["note"] = ["Say what was done, for the customer and whoever reads this next."]
        if errors:
            raise ValidationError(errors)
        values.update(resolution_code=resolution_code, resolution_note=event_note, resolved_at=at)
    if status == Status.CANCELLED:
        if not (reason or "").strip():
            raise ValidationError({"reason": [f"Say why the {noun} is cancelled."]})
        values["cancel_reason"] = reason.strip()
        event_note = event_note or reason.strip()
    if status == Status.CLOSED:
        values["closed_at"] = at
    if current == Status.RESOLVED and status == Status.IN_PROGRESS:
        values.update(resolution_code="", resolution_note="", resolved_at=None)
    apply_changes(incident, actor=actor, at=at, values=values, note=event_note)
    return incident


@transaction.atomic
def incident_auto_close(*, incident_id: int, cutoff: datetime, at: datetime | None = None) -> bool:
    """Close one incident resolved before `cutoff`; a no-op when it changed meanwhile.

    The conditional UPDATE makes a second run (or a concurrent reopen) harmless.
    """
    at = at or timezone.now()
    closed = Incident.objects.filter(pk=incident_id, status=Status.RESOLVED, resolved_at__lte=cutoff).update(
        status=Status.CLOSED, closed_at=at, version=F("version") + 1, updated_at=at
    )
    if not closed:
        return False
    incident = Incident.objects.get(pk=incident_id)
    record_event(
        incident,
        actor=None,
        at=at,
        event="field_changed",
        field="status",
        old=Status.RESOLVED,
        new=Status.CLOSED,
        note="Closed automatically after the resolution was not disputed.",
    )
    # The same event an interactive close sends (see _apply), so receivers see it closed.
    changed = ["closed_at", "status"]
    webhook_emit(Event.INCIDENT_UPDATED, {**incident_payload(incident), "changed": changed}, at=at)
    hooks.fire_incident_changed(
        incident=incident, changes={"status": (Status.RESOLVED, Status.CLOSED)}, at=at, actor=None
    )
    return True
