"""Change requests: submission and the product owner's triage decisions.

Every decision is one transaction: the request's status, its card (created or scheduled
through the boards and sprints services, so WIP rules and scope-change logging apply),
and a history row.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from boards.models import Board, Card, CardType, ClassOfService
from boards.selectors import board_for_team
from boards.services import card_create
from notifications.services import notify_change_decided
from org.models import Team
from sprints.models import Sprint, SprintState, WorkSource
from sprints.services import card_rank_board_edge, card_sprint_set
from tracker.exceptions import TransitionNotAllowed
from tracker.models import next_number
from webhooks.models import Event
from webhooks.payloads import change_payload
from webhooks.services import webhook_emit

from .models import TRIAGE_STATUSES, ChangeEvent, ChangeRequest, ChangeStatus, Decision, Kind, Source

# Which decisions each status allows.
ALLOWED_DECISIONS = {
    ChangeStatus.SUBMITTED: {Decision.ACCEPT, Decision.SCHEDULE, Decision.REJECT, Decision.DEFER},
    ChangeStatus.UNDER_REVIEW: {Decision.ACCEPT, Decision.SCHEDULE, Decision.REJECT, Decision.DEFER},
    ChangeStatus.DEFERRED: {Decision.ACCEPT, Decision.SCHEDULE, Decision.REJECT},
    ChangeStatus.ACCEPTED: {Decision.SCHEDULE},
    ChangeStatus.SCHEDULED: set(),
    ChangeStatus.REJECTED: set(),
    ChangeStatus.IMPLEMENTED: set(),
}


def _event(change, actor, event, *, old="", new="", note="", at=None):
    ChangeEvent.objects.create(
        change=change, at=at or timezone.now(), actor=actor, event=event, old=old, new=new, note=note
    )


def _team_for(incidents, team):
    if team is not None:
        return team
    for incident in incidents:
        if incident.service.team_id:
            return incident.service.team
    return None


@transaction.atomic
def change_request_create(
    *,
    title,
    actor,
    description="",
    source=Source.SUPPORT,
    kind=Kind.NORMAL,
    justification="",
    incidents=(),
    team: Team | None = None,
    at=None,
) -> ChangeRequest:
    now = at or timezone.now()
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = ["A change request needs a title."]
    if source not in Source.values:
        errors["source"] = [f"Source must be one of {', '.join(Source.values)}."]
    if kind not in Kind.values:
        errors["kind"] = [f"Kind must be one of {', '.join(Kind.values)}."]
    if kind == Kind.EMERGENCY and not (justification or "").strip():
        errors["justification"] = ["An emergency change needs a justification."]
    if team is not None and not team.is_development:
        errors["team"] = ["Change requests go to a development team."]
    if errors:
        raise ValidationError(errors)
    incidents = list(incidents)
    change = ChangeRequest.objects.create(
        key=f"CR-{next_number('CR')}",
        title=title,
        description=description or "",
        source=source,
        kind=kind,
        justification=justification or "",
        requester=actor,
        team=_team_for(incidents, team),
        created_at=now,
    )
    if incidents:
        change.incidents.set(incidents)
    _event(change, actor, "submitted", new=ChangeStatus.SUBMITTED, at=now)
    return change


def _board_for(team: Team | None) -> Board:
    board = board_for_team(team)
    if board is None:
        raise ValidationError(
            {"team": ["The change request's development team has no board to put the card on."]}
        )
    return board


def _active_sprint(team: Team | None) -> Sprint | None:
    if team is None:
        return None
    return Sprint.objects.filter(team=team, state=SprintState.ACTIVE).first()


def _create_card(change: ChangeRequest, actor, *, emergency=False) -> Card:
    board = _board_for(change.team)
    description = change.description
    if change.justification:
        description = f"{description}\n\nJustification: {change.justification}".strip()
    card = card_create(
        board=board,
        title=change.title,
        actor=actor,
        type=CardType.CHANGE,
        description=f"{change.key}: {description}",
        class_of_service=ClassOfService.EXPEDITE if emergency else ClassOfService.STANDARD,
    )
    if not emergency:
        card_rank_board_edge(card=card, top=False)
    return card


@transaction.atomic
def change_request_triage(
    *, change: ChangeRequest, decision, actor, sprint: Sprint | None = None, reason="", at=None
) -> ChangeRequest:
    """Apply the product owner's decision.

    accept: a card at the bottom of the team's backlog (emergency changes: an expedite card
    in the active sprint, approved by `actor`); schedule: the card (created if needed) joins
    `sprint`, logged as a scope change when the sprint is running; reject/defer: a reason
    is required and shown to the requester.
    """
    now = at or timezone.now()
    change = ChangeRequest.objects.select_for_update(of=("self",)).select_related("team").get(pk=change.pk)
    reason = (reason or "").strip()
    if decision not in Decision.values:
        raise ValidationError({"decision": [f"Decision must be one of {', '.join(Decision.values)}."]})
    allowed = ALLOWED_DECISIONS[ChangeStatus(change.status)]
    if decision not in allowed:
        allowed_text = ", ".join(sorted(allowed)) or "none (the decision is final)"
        raise TransitionNotAllowed(
            f"{change.key} is {change.get_status_display().lower()}; allowed decisions: {allowed_text}."
        )
    if decision in (Decision.REJECT, Decision.DEFER) and not reason:
        raise ValidationError({"reason": ["Say why: the requester sees this reason."]})
    if decision == Decision.SCHEDULE:
        if sprint is None:
            raise ValidationError({"sprint": ["Choose the sprint to schedule the change into."]})
        if sprint.state == SprintState.CLOSED:
            raise ValidationError({"sprint": ["That sprint is closed."]})
        if change.team_id and sprint.team_id != change.team_id:
            raise ValidationError({"sprint": ["That sprint belongs to another team."]})

    old_status = change.status
    emergency = change.kind == Kind.EMERGENCY
    if decision == Decision.ACCEPT:
        if emergency:
            active = _active_sprint(change.team)
            if active is None:
                raise ValidationError(
                    {"decision": ["An emergency change goes into the active sprint, and the team has none."]}
                )
            card = change.card or _create_card(change, actor, emergency=True)
            card_sprint_set(
                card=card,
                sprint=active,
                actor=actor,
                reason=f"Emergency change {change.key} approved by {actor}",
                source=WorkSource.EMERGENCY_CHANGE,
            )
            change.card = card
            change.approved_by = actor
            change.status = ChangeStatus.SCHEDULED
        else:
            change.card = change.card or _create_card(change, actor)
            change.status = ChangeStatus.ACCEPTED
    elif decision == Decision.SCHEDULE:
        card = change.card or _create_card(change, actor, emergency=emergency)
        card_sprint_set(
            card=card,
            sprint=sprint,
            actor=actor,
            reason=reason or f"Change request {change.key} scheduled",
            source=WorkSource.EMERGENCY_CHANGE if emergency else WorkSource.PLANNED,
        )
        change.card = card
        if emergency:
            change.approved_by = actor
        change.status = ChangeStatus.SCHEDULED
    elif decision == Decision.REJECT:
        change.status = ChangeStatus.REJECTED
    else:
        change.status = ChangeStatus.DEFERRED

    change.decision_reason = reason
    change.decided_by = actor
    change.decided_at = now
    change.save()
    _event(change, actor, f"triage_{decision}", old=old_status, new=change.status, note=reason, at=now)
    webhook_emit(Event.CHANGE_DECIDED, change_payload(change), at=now)
    notify_change_decided(change=change, actor=actor)
    return change


def is_awaiting_triage(change: ChangeRequest) -> bool:
    return change.status in TRIAGE_STATUSES
