"""An incident's descriptive fields and its priority: the ITIL matrix (impact × urgency),
the edit of the descriptive fields, and a manager's priority override."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import search
from ..models import Incident, IncidentType, Level, Priority
from .base import Actor, Errors, apply_changes, incident_lock, require_value

# ITIL impact × urgency -> priority (P1 highest).
PRIORITY_MATRIX = {
    (Level.HIGH, Level.HIGH): Priority.P1,
    (Level.HIGH, Level.MEDIUM): Priority.P2,
    (Level.HIGH, Level.LOW): Priority.P3,
    (Level.MEDIUM, Level.HIGH): Priority.P2,
    (Level.MEDIUM, Level.MEDIUM): Priority.P3,
    (Level.MEDIUM, Level.LOW): Priority.P4,
    (Level.LOW, Level.HIGH): Priority.P3,
    (Level.LOW, Level.MEDIUM): Priority.P4,
    (Level.LOW, Level.LOW): Priority.P5,
}


# Fields whose words are in the incident's search vector (incidents.search).
SEARCHED_FIELDS = {"title", "description", "contact"}

# Fields a worker may edit directly.
EDITABLE_FIELDS = ("title", "description", "contact", "impact", "urgency", "service", "customer", "type")


def priority_for(impact: str, urgency: str) -> str:
    return PRIORITY_MATRIX[(Level(impact), Level(urgency))]


@transaction.atomic
def incident_update(
    *,
    incident: Incident,
    actor: Actor,
    data: dict[str, Any],
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Incident:
    """Edit the descriptive fields. Impact or urgency recompute the priority unless a
    manager has overridden it."""
    at = at or timezone.now()
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: ["This field cannot be edited here."] for f in sorted(unknown)})
    errors: Errors = {}
    if "title" in data:
        require_value(errors, "title", data["title"], "The title cannot be empty.")
    for field in ("impact", "urgency"):
        if field in data and data[field] not in Level.values:
            errors[field] = [f"Choose one of: {', '.join(Level.values)}."]
    if "type" in data and data["type"] not in IncidentType.values:
        errors["type"] = [f"Choose one of: {', '.join(IncidentType.values)}."]
    if "service" in data and data["service"] is None:
        errors["service"] = ["Choose the affected service."]
    if errors:
        raise ValidationError(errors)
    incident = incident_lock(incident, expected_version)
    values = dict(data)
    impact = values.get("impact", incident.impact)
    urgency = values.get("urgency", incident.urgency)
    if not incident.priority_override_reason:
        values["priority"] = priority_for(impact, urgency)
    changes = apply_changes(incident, actor=actor, at=at, values=values)
    if changes.keys() & SEARCHED_FIELDS:
        search.vector_refresh([incident.pk])
    return incident


@transaction.atomic
def incident_set_priority(
    *,
    incident: Incident,
    actor: Actor,
    priority: str,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Incident:
    """A manager overrides the matrix priority; the reason is kept on the incident and in history."""
    at = at or timezone.now()
    errors: Errors = {}
    if priority not in Priority.values:
        errors["priority"] = [f"Choose one of: {', '.join(Priority.values)}."]
    require_value(errors, "reason", reason, "Say why the priority differs from the matrix.")
    if errors:
        raise ValidationError(errors)
    incident = incident_lock(incident, expected_version)
    if incident.priority == priority:
        raise ValidationError({"priority": [f"{incident.key} is already {priority}."]})
    apply_changes(
        incident,
        actor=actor,
        at=at,
        values={"priority": priority, "priority_override_reason": reason.strip()},
        note=reason.strip(),
    )
    return incident
