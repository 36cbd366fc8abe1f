"""Who holds the case: assignment and taking it, functional escalation (to another
support group), the tier where the work is, a major-incident declaration, swarming, and the
team one tier up (for the SLA engine's automatic escalation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from notifications.services import notify_assigned, notify_handoff
from org.models import ServiceSupportModel, Team
from tracker.exceptions import DomainError, TransitionNotAllowed
from tracker.tasks import enqueue_on_commit

from ..models import Incident, Status
from .base import (
    Actor,
    Errors,
    apply_changes,
    incident_lock,
    is_team_member,
    record_event,
    record_noun,
    require_value,
)


@transaction.atomic
def incident_assign(
    *,
    incident: Incident,
    actor: Actor,
    assignee: User | None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Incident:
    at = at or timezone.now()
    incident = incident_lock(incident, expected_version)
    if assignee is not None and not (
        is_team_member(assignee, incident.team) or incident.participants.filter(pk=assignee.pk).exists()
    ):
        raise ValidationError(
            {
                "assignee": [
                    f"{assignee} is not a member of {incident.team} nor a participant of {incident.key}."
                ]
            }
        )
    if apply_changes(incident, actor=actor, at=at, values={"assignee": assignee}):
        notify_assigned(incident=incident, actor=actor)
    return incident


@transaction.atomic
def incident_take(
    *, incident: Incident, actor: User, expected_version: int | None = None, at: datetime | None = None
) -> Incident:
    """The caller takes the incident: it is assigned to them and work starts."""
    at = at or timezone.now()
    incident = incident_lock(incident, expected_version)
    if not incident.is_open:
        raise TransitionNotAllowed(f"{incident.key} is {incident.status}; only open incidents can be taken.")
    values: dict[str, Any] = {"assignee": actor}
    if incident.status == Status.NEW:
        values.update(status=Status.IN_PROGRESS)
    apply_changes(incident, actor=actor, at=at, values=values)
    return incident


@transaction.atomic
def incident_escalate(
    *,
    incident: Incident,
    actor: Actor,
    team: Team | None,
    note: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Incident:
    """Functional escalation: hand the incident to another team with a mandatory note.

    A higher tier is an escalation, a lower one a de-escalation, the same tier a transfer.
    Swarm incidents are never handed off. `actor` is None when the SLA engine escalates.
    """
    at = at or timezone.now()
    errors: Errors = {}
    noun = record_noun(incident.type)
    require_value(errors, "note", note, f"Say why the {noun} is escalated; the next team reads this first.")
    if team is None:
        errors["team"] = [f"Choose the team to hand the {noun} to."]
    if errors or team is None:  # (a missing team is one of the errors)
        raise ValidationError(errors)
    incident = incident_lock(incident, expected_version)
    if not incident.is_open:
        raise TransitionNotAllowed(
            f"{incident.key} is {incident.status}; only open incidents can be escalated."
        )
    if incident.service.support_model == ServiceSupportModel.SWARM:
        raise DomainError(
            f"{incident.service} is supported by swarming: no hand-offs, ask people to join instead.",
            code="swarm_no_handoff",
        )
    if team.pk == incident.team_id:
        raise ValidationError({"team": [f"{incident.key} is already with {team}."]})
    old_tier = incident.tier
    kind = "escalated" if team.tier > old_tier else "de_escalated" if team.tier < old_tier else "transferred"
    old_team = incident.team
    values: dict[str, Any] = {"team": team, "tier": team.tier}
    if incident.assignee_id and not is_team_member(incident.assignee, team):
        values["assignee"] = None
    record_event(incident, actor=actor, at=at, event=kind, old=old_team, new=team, note=note.strip())
    apply_changes(incident, actor=actor, at=at, values=values)
    notify_handoff(incident=incident, actor=actor, note=note.strip())
    return incident


@transaction.atomic
def incident_set_tier(
    *, incident: Incident, actor: Actor, tier: int, note: str = "", at: datetime | None = None
) -> Incident:
    """Record the tier where the work is, without handing the case to another group.

    Escalation to development uses it (tier 3 while development works the card, back to the
    team's tier when the card comes back): the team and the assignee, who own the case, stay.
    """
    at = at or timezone.now()
    if tier not in (1, 2, 3):
        raise ValidationError({"tier": ["The tier is 1, 2 or 3."]})
    incident = incident_lock(incident)
    apply_changes(incident, actor=actor, at=at, values={"tier": tier}, note=note)
    return incident


@transaction.atomic
def incident_declare_major(
    *, incident: Incident, actor: Actor, note: str = "", at: datetime | None = None
) -> Incident:
    """Hierarchical escalation: flag a major incident and notify the managers.

    Idempotent: declaring an incident that is already major changes nothing.
    """
    at = at or timezone.now()
    incident = incident_lock(incident)
    if incident.is_major:
        return incident
    if not incident.is_open:
        raise TransitionNotAllowed(
            f"{incident.key} is {incident.status}; only open incidents can be declared major."
        )
    incident.major_declared_at = at
    apply_changes(
        incident, actor=actor, at=at, values={"is_major": True}, event="declared_major", note=note or ""
    )
    from ..tasks import incidents_notify_major  # cycle: incidents.tasks imports incidents.services

    enqueue_on_commit(incidents_notify_major, incident.pk)  # type: ignore[no-untyped-call]  # tracker.tasks is untyped
    return incident


@transaction.atomic
def incident_swarm_join(*, incident: Incident, actor: User, at: datetime | None = None) -> Incident:
    at = at or timezone.now()
    incident = incident_lock(incident)
    if incident.service.support_model != ServiceSupportModel.SWARM:
        raise DomainError(
            f"{incident.service} uses tiered support; escalate instead of joining.", code="not_a_swarm"
        )
    if not incident.is_open:
        raise TransitionNotAllowed(f"{incident.key} is {incident.status}; only open incidents can be joined.")
    if incident.participants.filter(pk=actor.pk).exists():
        return incident
    incident.participants.add(actor)
    record_event(incident, actor=actor, at=at, event="joined_swarm", new=actor)
    return incident


@transaction.atomic
def incident_swarm_leave(*, incident: Incident, actor: User, at: datetime | None = None) -> Incident:
    at = at or timezone.now()
    incident = incident_lock(incident)
    if not incident.participants.filter(pk=actor.pk).exists():
        return incident
    incident.participants.remove(actor)
    record_event(incident, actor=actor, at=at, event="left_swarm", old=actor)
    return incident


def next_tier_team(incident: Incident) -> Team | None:
    """The team one tier up from the incident's team (for an automatic escalation)."""
    if incident.tier >= 3:
        return None
    if incident.tier == 2 and incident.service.team_id:
        return incident.service.team
    return (
        Team.objects.filter(tier=incident.tier + 1, is_development=False).order_by("name").first()
        or Team.objects.filter(tier__gt=incident.tier).order_by("tier", "name").first()
    )
