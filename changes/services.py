"""Change requests: submission and the product owner's triage decisions.

Every decision is one transaction: the request's status, its card (created or scheduled
through the boards and sprints services, so WIP rules and scope-change logging apply),
and a history row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from boards.models import Board, Card, CardType, ClassOfService
from boards.selectors import board_for_team
from boards.services import card_create
from incidents.models import Incident
from notifications.models import Kind as NotificationKind
from notifications.services import notification_create, notify_change_decided
from org.models import Team
from sprints.models import Sprint, SprintState, WorkSource
from sprints.selectors import PanelView
from sprints.services import card_estimate_set, card_rank_board_edge, card_sprint_set
from tracker.exceptions import TransitionNotAllowed
from tracker.models import next_number
from webhooks.models import Event
from webhooks.payloads import change_payload
from webhooks.services import webhook_emit

from .models import TRIAGE_STATUSES, ChangeEvent, ChangeRequest, ChangeStatus, Decision, Kind, Source

# Which decisions each status allows.
Actor = User | None

ALLOWED_DECISIONS: dict[str, set[str]] = {
    ChangeStatus.SUBMITTED: {Decision.ACCEPT, Decision.SCHEDULE, Decision.REJECT, Decision.DEFER},
    ChangeStatus.UNDER_REVIEW: {Decision.ACCEPT, Decision.SCHEDULE, Decision.REJECT, Decision.DEFER},
    ChangeStatus.DEFERRED: {Decision.ACCEPT, Decision.SCHEDULE, Decision.REJECT},
    ChangeStatus.ACCEPTED: {Decision.SCHEDULE},
    ChangeStatus.SCHEDULED: set(),
    ChangeStatus.REJECTED: set(),
    ChangeStatus.IMPLEMENTED: set(),
}


def _event(
    change: ChangeRequest,
    actor: Actor,
    event: str,
    *,
    old: str = "",
    new: str = "",
    note: str = "",
    at: datetime | None = None,
) -> None:
    ChangeEvent.objects.create(
        change=change, at=at or timezone.now(), actor=actor, event=event, old=old, new=new, note=note
    )


def _team_for(incidents: Iterable[Incident], team: Team | None) -> Team | None:
    if team is not None:
        return team
    for incident in incidents:
        if incident.service.team_id:
            return incident.service.team
    return None


@transaction.atomic
def change_request_create(
    *,
    title: str | None,
    actor: Actor,
    description: str = "",
    source: str = Source.SUPPORT,
    kind: str = Kind.NORMAL,
    justification: str = "",
    incidents: Iterable[Incident] = (),
    team: Team | None = None,
    at: datetime | None = None,
) -> ChangeRequest:
    now = at or timezone.now()
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = ["A change request needs a title."]
    if source not in Source.values:
        errors["source"] = [f"Source must be one of {', '.join(Source.values)}."]
    if kind not in Kind.values:
        errors["kind"] = [f"Kind must be one of {', '.join(Kind.values)}."]
    if kind == Kind.EMERGENCY and not (justification or "").strip():
        errors["justification"] = ["An emergency change needs a justification."]
    linked = list(incidents)
    if team is not None and not team.is_development:
        errors["team"] = ["Change requests go to a development team."]
    elif _team_for(linked, team) is None:
        errors["team"] = [
            "Choose the development team asked to make the change: "
            + (
                "the linked incidents' services have none."
                if linked
                else "no incident is linked to take it from."
            )
        ]
    if errors:
        raise ValidationError(errors)
    change = ChangeRequest.objects.create(
        key=f"CR-{next_number('CR')}",
        title=title,
        description=description or "",
        source=source,
        kind=kind,
        justification=justification or "",
        requester=actor,
        team=_team_for(linked, team),
        created_at=now,
    )
    if linked:
        change.incidents.set(linked)
    _event(change, actor, "submitted", new=ChangeStatus.SUBMITTED, at=now)
    if change.kind == Kind.EMERGENCY:
        _notify_emergency_submitted(change, actor=actor, at=now)
    return change


def product_owners_for(team: Team | None) -> list[int]:
    """Who triages a team's change requests: its members with the product owner role, or,
    when it has none, every product owner."""
    owners = User.objects.filter(is_active=True, groups__name=Role.PRODUCT_OWNER)
    if team is not None:
        mine = list(owners.filter(teams=team).values_list("pk", flat=True).distinct())
        if mine:
            return mine
    return list(owners.values_list("pk", flat=True).distinct())


def _notify_emergency_submitted(change: ChangeRequest, *, actor: Actor, at: datetime) -> None:
    # The notifications app has no kind of its own for this yet (adding one is a migration
    # of that app); it goes out as a change-request notification.
    notification_create(
        kind=NotificationKind.CHANGE_DECIDED,
        recipients=product_owners_for(change.team),
        exclude=actor,
        title=f"Emergency change {change.key} waits for triage",
        body=f"{actor or 'Someone'} submitted the emergency change {change.key} “{change.title}” for "
        f"{change.team}. Justification: {change.justification}",
        url=reverse("changes:detail", args=[change.key]),
        at=at,
    )


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


def _create_card(
    change: ChangeRequest, actor: Actor, *, emergency: bool = False, estimate: Decimal | None = None
) -> Card:
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
        estimate=estimate,
    )
    if not emergency:
        card_rank_board_edge(card=card, top=False)
    return card


PRIORITY_ORDER = ("P1", "P2", "P3", "P4", "P5")


def emergency_default_estimate(change: ChangeRequest) -> Decimal | None:
    """The estimate an emergency change gets unless the product owner gives one: like an
    escalated defect, the team's default for the priority of its most urgent linked
    incident, or, with none linked, the team's P1 default (an emergency is as urgent)."""
    team = change.team
    if team is None:
        return None
    priorities = [p for p in change.incidents.values_list("priority", flat=True) if p in PRIORITY_ORDER]
    priority = min(priorities, key=PRIORITY_ORDER.index) if priorities else "P1"
    default = (team.default_estimates or {}).get(priority)
    return None if default in (None, "") else Decimal(str(default))


def _clean_estimate(value: Decimal | int | float | str | None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        estimate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"estimate": ["Give the estimate as a number."]}) from None
    if not estimate.is_finite() or estimate < 0 or estimate > 1000:
        raise ValidationError({"estimate": ["The estimate must be between 0 and 1000."]})
    return estimate


@dataclass
class TriagePreview:
    """What the decision would do to the sprint: the escalation preview's impact (same
    numbers, same template), computed by the real triage in a rolled-back transaction."""

    change: ChangeRequest
    card: Card
    sprint: Sprint | None
    sprint_impact: dict[str, Any] | None
    placement: str = "expedite"
    # Words for the shared escalation/_impact.html template.
    work_label = "New expedite change card"
    work_noun = "emergency change"
    action_label = "approving it"

    @property
    def escalation(self) -> dict[str, str]:
        return {"placement": self.placement}

    @property
    def sla_due(self) -> datetime | None:
        due = (self.sprint_impact or {}).get("sla_due_at")
        return datetime.fromisoformat(due) if due else None


class _Preview(Exception):
    def __init__(self, result: TriagePreview | None) -> None:
        self.result = result


def change_request_triage_preview(**kwargs: Any) -> TriagePreview | None:
    """The impact of a triage decision before it is made: nothing is written, nobody is
    notified (the transaction is rolled back). None when the decision puts nothing into a
    sprint (only an emergency accepted or scheduled does, with its estimate). Takes the
    arguments of `change_request_triage`."""
    try:
        with transaction.atomic():
            _, preview = _triage(**kwargs)
            raise _Preview(preview)
    except _Preview as done:
        return done.result


def _sprint_impact(*, before: PanelView, sprint: Sprint, card: Card, change: ChangeRequest) -> dict[str, Any]:
    from escalation.services import _impact  # the escalation preview's impact, reused as is
    from sprints.selectors import sprint_panel

    incident = change.incidents.order_by("priority", "pk").first()
    # An emergency change may have no linked incident; `_impact` reads only the incident's
    # resolution due (none then), but the escalation app (not this one) annotates it as
    # required: the ignore goes once escalation.services._impact takes `Incident | None`.
    return _impact(
        before=before,
        after=sprint_panel(sprint),
        sprint=sprint,
        card=card,
        incident=incident,  # type: ignore[arg-type]
    )


@transaction.atomic
def change_request_triage(
    *,
    change: ChangeRequest,
    decision: str,
    actor: Actor,
    sprint: Sprint | None = None,
    reason: str = "",
    estimate: Decimal | int | float | str | None = None,
    at: datetime | None = None,
) -> ChangeRequest:
    """Apply the product owner's decision.

    accept: a card at the bottom of the team's backlog (emergency changes: an expedite card
    in the active sprint, approved by `actor`); schedule: the card (created if needed) joins
    `sprint`, logged as a scope change when the sprint is running; reject/defer: a reason
    is required and shown to the requester. An emergency change taken into a sprint costs
    its `estimate` (default: `emergency_default_estimate`); without either it is refused.
    The returned change carries `sprint_impact` (the escalation preview's numbers) when an
    emergency entered a sprint.
    """
    decided, _ = _triage(
        change=change,
        decision=decision,
        actor=actor,
        sprint=sprint,
        reason=reason,
        estimate=estimate,
        at=at,
    )
    return decided


@transaction.atomic
def _triage(
    *,
    change: ChangeRequest,
    decision: str,
    actor: Actor,
    sprint: Sprint | None = None,
    reason: str = "",
    estimate: Decimal | int | float | str | None = None,
    at: datetime | None = None,
) -> tuple[ChangeRequest, TriagePreview | None]:
    """`change_request_triage`, with the preview of what it did to the sprint."""
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
    amount = _clean_estimate(estimate)
    target = None
    if emergency and decision in (Decision.ACCEPT, Decision.SCHEDULE):
        target = sprint if decision == Decision.SCHEDULE else _active_sprint(change.team)
        if amount is None and not (change.card and change.card.estimate is not None):
            amount = emergency_default_estimate(change)
            if amount is None:
                raise ValidationError(
                    {"estimate": ["Estimate the emergency change: the team has no default estimate to use."]}
                )
    before = _panel(target) if target is not None else None
    if decision == Decision.ACCEPT:
        if emergency:
            active = target
            if active is None:
                raise ValidationError(
                    {"decision": ["An emergency change goes into the active sprint, and the team has none."]}
                )
            card = change.card or _create_card(change, actor, emergency=True, estimate=amount)
            _estimate_existing(card, amount, actor)
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
        card = change.card or _create_card(change, actor, emergency=emergency, estimate=amount)
        if emergency:
            _estimate_existing(card, amount, actor)
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
    change.sprint_impact = None
    preview = None
    if before is not None and target is not None and change.card is not None:
        card = Card.objects.select_related("column", "lane").get(pk=change.card.pk)
        change.sprint_impact = _sprint_impact(before=before, sprint=target, card=card, change=change)
        preview = TriagePreview(change=change, card=card, sprint=target, sprint_impact=change.sprint_impact)
    _event(change, actor, f"triage_{decision}", old=old_status, new=change.status, note=reason, at=now)
    webhook_emit(Event.CHANGE_DECIDED, change_payload(change), at=now)
    notify_change_decided(change=change, actor=actor)
    return change, preview


def _panel(sprint: Sprint) -> PanelView:
    from sprints.selectors import sprint_panel

    return sprint_panel(sprint)


def _estimate_existing(card: Card, estimate: Decimal | None, actor: Actor) -> None:
    """An existing card without an estimate takes the emergency's before joining the sprint."""
    if estimate is not None and card.estimate is None:
        card_estimate_set(card=card, estimate=estimate, actor=actor, reason="Emergency change estimate")


def is_awaiting_triage(change: ChangeRequest) -> bool:
    return change.status in TRIAGE_STATUSES
