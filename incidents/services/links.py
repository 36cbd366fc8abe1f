"""Links between records: merging a duplicate into its parent incident, and the card or
release that caused an incident."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from tracker.exceptions import TransitionNotAllowed

from ..models import Incident, ResolutionCode, Status
from .base import Actor, apply_changes, incident_lock, record_event
from .lifecycle import allowed_next_statuses


@transaction.atomic
def incident_merge_duplicate(
    *, incident: Incident, actor: Actor, parent: Incident | None, note: str = "", at: datetime | None = None
) -> Incident:
    """Merge `incident` into `parent`: it is resolved as a duplicate and points at the parent."""
    at = at or timezone.now()
    if parent is None:
        raise ValidationError({"parent": ["Choose the incident this one duplicates."]})
    if parent.pk == incident.pk:
        raise ValidationError({"parent": ["An incident cannot duplicate itself."]})
    # Lock both in primary-key order so two opposite merges cannot deadlock.
    locked = {
        i.pk: i
        for i in Incident.objects.select_for_update(of=("self",))
        .select_related("service", "team")
        .filter(pk__in=[incident.pk, parent.pk])
        .order_by("pk")
    }
    incident, parent = locked[incident.pk], locked[parent.pk]
    if parent.parent_id:
        raise ValidationError({"parent": [f"{parent.key} is itself a duplicate of another incident."]})
    if parent.status == Status.CANCELLED:
        raise ValidationError({"parent": [f"{parent.key} is cancelled."]})
    if Status.RESOLVED not in allowed_next_statuses(incident.status):
        raise TransitionNotAllowed(
            f"{incident.key} is {incident.status}; only open incidents can be merged into another."
        )
    text = (note or "").strip() or f"Duplicate of {parent.key}."
    apply_changes(
        incident,
        actor=actor,
        at=at,
        values={
            "parent": parent,
            "status": Status.RESOLVED,
            "hold_reason": "",
            "resolution_code": ResolutionCode.DUPLICATE,
            "resolution_note": text,
            "resolved_at": at,
        },
        note=text,
    )
    record_event(parent, actor=actor, at=at, event="duplicate_merged", new=incident.key, note=text)
    return incident


@transaction.atomic
def incident_link_cause(
    *,
    incident: Incident,
    actor: Actor,
    card: Model | None = None,
    release: Model | None = None,
    at: datetime | None = None,
) -> Incident:
    """Record the card or release that caused the incident: at least one of them. What is
    not given is cleared, so the cause is exactly what was linked last."""
    at = at or timezone.now()
    if card is None and release is None:
        raise ValidationError({"card": ["Give the card that caused it, or choose a release."]})
    incident = incident_lock(incident)
    apply_changes(
        incident,
        actor=actor,
        at=at,
        values={"caused_by_card": card, "caused_by_release": release},
        event="cause_linked",
    )
    return incident
