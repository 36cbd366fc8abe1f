"""Resolving a problem's incidents together, once the fix (or a workaround) is in.

Each incident is resolved through incidents.services.incident_transition in its own
transaction, so one refusal (someone reopened it, it is not yours to resolve) does not
undo the others; the outcome lists what was done and what was refused, and why. The
customer hears it from the incident's own resolution: the mail app sends its resolution
e-mail on every resolve (mail.outbound.mail_on_incident_changed), once per incident.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, ResolutionCode, Status
from incidents.permissions import can_transition
from incidents.services import incident_transition
from tracker.exceptions import DomainError

from ..models import Problem, ProblemIncident
from .common import Actor, record, refusal_text

# What resolving with the problem means for an incident: the fix, or the known workaround.
RESOLUTION_CODES = (ResolutionCode.FIXED, ResolutionCode.WORKAROUND)


@dataclass
class ResolveOutcome:
    done: list[Incident] = field(default_factory=list)
    # incident key -> why it was not resolved
    refused: dict[str, str] = field(default_factory=dict)


def problem_resolve_incidents(
    *,
    problem: Problem,
    incidents: Iterable[Incident],
    actor: Actor,
    resolution_code: str = ResolutionCode.FIXED,
    note: str = "",
    at: datetime | None = None,
) -> ResolveOutcome:
    """Resolve the chosen incidents of the problem, each in its own transaction.

    Only incidents linked to the problem, open, and which `actor` may work
    (incidents.permissions.can_transition) are resolved; the others are refused with a reason.
    `note` is the resolution note each customer reads. Not atomic as a whole on purpose.
    """
    now = at or timezone.now()
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if resolution_code not in RESOLUTION_CODES:
        errors["resolution_code"] = [f"Resolve with one of: {', '.join(RESOLUTION_CODES)}."]
    if not note:
        errors["note"] = ["Say what was done: each customer reads this note."]
    if errors:
        raise ValidationError(errors)
    chosen = list(dict.fromkeys(incidents))
    linked = set(
        ProblemIncident.objects.filter(problem=problem, incident__in=chosen).values_list(
            "incident_id", flat=True
        )
    )
    outcome = ResolveOutcome()
    for incident in chosen:
        if incident.pk not in linked:
            outcome.refused[incident.key] = f"{incident.key} is not linked to {problem.key}."
            continue
        if actor is not None and not can_transition(actor, incident):
            outcome.refused[incident.key] = f"You may not resolve {incident.key}: it is not yours to work."
            continue
        try:
            with transaction.atomic():
                resolved = incident_transition(
                    incident=incident,
                    actor=actor,
                    status=Status.RESOLVED,
                    resolution_code=resolution_code,
                    note=note,
                    at=now,
                )
                record(
                    problem,
                    actor=actor,
                    at=now,
                    event="incident_resolved",
                    new=incident.key,
                    note=resolution_code,
                )
        except (ValidationError, DomainError) as exc:
            outcome.refused[incident.key] = refusal_text(exc)
        else:
            outcome.done.append(resolved)
    return outcome
