"""Escalation to development, and the fix flowing back to support.

`incident_escalate_to_development` is one transaction touching an incident, a card, a
sprint and both histories; it is built only from the incidents, boards and sprints
services, so their rules (transitions, WIP, scope-change logging, SLA hooks) all apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from boards.forecasting import FixForecast
from boards.models import Board, Card, CardType, ClassOfService, ColumnCategory, LaneKind, Release
from boards.selectors import board_for_team, card_fix_forecast
from boards.services import card_create, card_link_incident
from incidents.history import history_record
from incidents.models import Comment, HoldReason, Incident, Priority, ResolutionCode, Status
from incidents.services import (
    incident_assign,
    incident_escalate,
    incident_lock,
    incident_set_tier,
    incident_transition,
    record_noun,
)
from notifications.services import notify_fix_returned
from org.models import ServiceSupportModel, Team
from sla.models import SLATimer, TimerMetric
from sprints.models import Sprint, SprintState, WorkSource
from sprints.selectors import PanelView, sprint_panel
from sprints.services import card_estimate_set, card_rank_board_edge, card_sprint_set
from tracker.exceptions import DomainError, TransitionNotAllowed
from webhooks.models import Event
from webhooks.payloads import card_payload, incident_payload
from webhooks.services import webhook_emit

from .models import Escalation, Outcome, Placement

URGENT = (Priority.P1, Priority.P2)
# Who acts: a user, or None for Tandem itself (a board moved by automation).
Actor = User | None


@dataclass
class EscalationResult:
    escalation: Escalation
    card: Card
    sprint: Sprint | None
    sprint_impact: dict[str, Any] | None
    # The card's fix forecast (boards.forecasting.FixForecast), read by the preview only.
    fix_forecast: FixForecast | None = None

    @property
    def sla_due(self) -> datetime | None:
        """The incident's resolution due instant as a datetime, for display."""
        due = (self.sprint_impact or {}).get("sla_due_at")
        return datetime.fromisoformat(due) if due else None


class _Preview(Exception):
    """Raised to roll back a dry run once its result is known."""

    def __init__(self, result: EscalationResult) -> None:
        self.result = result


# ---------------------------------------------------------------- helpers
def _development_team(incident: Incident, team: Team | None) -> Team:
    team = team or incident.service.team
    if team is None:
        raise ValidationError({"team": [f"{incident.service} has no development team; choose one."]})
    if not team.is_development:
        raise ValidationError({"team": [f"{team} is not a development team."]})
    return team


def _board_for(team: Team) -> Board:
    board = board_for_team(team)
    if board is None:
        raise ValidationError({"team": [f"{team} has no board to put the defect card on."]})
    return board


def escalation_estimate(value: object, team: Team, priority: str) -> Decimal | None:
    """The card's estimate: as given (0–1000), else the team's default for the priority.
    Shared with a problem's escalation (problems.services.development)."""
    if value in (None, ""):
        default = (team.default_estimates or {}).get(priority)
        return None if default in (None, "") else Decimal(str(default))
    try:
        estimate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"estimate": ["Give the estimate as a number."]}) from None
    if not estimate.is_finite() or estimate < 0 or estimate > 1000:
        raise ValidationError({"estimate": ["The estimate must be between 0 and 1000."]})
    return estimate


def escalation_sprint(team: Team, priority: str, into_sprint: Sprint | bool | None) -> Sprint | None:
    """The sprint the card joins: P1/P2 the active sprint; P3–P5 only when the escalator
    asks for it (True: the active one; a Sprint: that one, if the team's and not closed)."""
    if isinstance(into_sprint, Sprint):
        if into_sprint.team_id != team.pk:
            raise ValidationError({"into_sprint": ["That sprint belongs to another team."]})
        if into_sprint.state == SprintState.CLOSED:
            raise ValidationError({"into_sprint": ["That sprint is closed."]})
        return into_sprint
    active = Sprint.objects.filter(team=team, state=SprintState.ACTIVE).first()
    if into_sprint is True and active is None:
        raise ValidationError({"into_sprint": [f"{team} has no active sprint."]})
    if into_sprint is True or (into_sprint is None and priority in URGENT):
        return active
    return None


def _panel(sprint: Sprint) -> PanelView:
    return sprint_panel(sprint)


def _resolution_due(incident: Incident) -> datetime | None:
    return (
        SLATimer.objects.filter(incident=incident, metric=TimerMetric.RESOLUTION, is_active=True)
        .values_list("due_at", flat=True)
        .first()
    )


def _sprint_end(sprint: Sprint) -> datetime:
    """The end of the sprint's last day, in the server's zone."""
    return timezone.make_aware(datetime.combine(sprint.end + timedelta(days=1), time.min))


def _impact(
    *, before: PanelView, after: PanelView, sprint: Sprint, card: Card, incident: Incident
) -> dict[str, Any]:
    b, a = before.panel, after.panel
    newly = [pk for pk in a.at_risk if pk not in set(b.at_risk)]
    cards = {c.pk: c for c in Card.objects.filter(pk__in=newly).only("id", "key", "title", "estimate")}
    due = _resolution_due(incident)
    ends = _sprint_end(sprint)
    return {
        "sprint": {
            "id": sprint.pk,
            "name": sprint.name,
            "end": sprint.end.isoformat(),
            "state": sprint.state,
        },
        "unit": after.unit,
        "estimate": float(card.estimate or 0),
        "capacity": float(a.capacity),
        "support_reserved": float(a.support_reserved),
        "unplanned_before": float(b.unplanned),
        "unplanned_after": float(a.unplanned),
        "support_reserve_remaining_before": float(b.support_reserved - b.unplanned),
        "support_reserve_remaining_after": float(a.support_reserved - a.unplanned),
        "exceeds_support_reserve": a.unplanned > a.support_reserved,
        "capacity_line_before": float(b.capacity_line),
        "capacity_line_after": float(a.capacity_line),
        "overcommitted_by_before": float(b.overcommitted_by),
        "overcommitted_by_after": float(a.overcommitted_by),
        "at_risk": list(a.at_risk),
        "newly_at_risk": [
            {
                "id": pk,
                "key": cards[pk].key,
                "title": cards[pk].title,
                "estimate": float(cards[pk].estimate or 0),
            }
            for pk in newly
            if pk in cards
        ],
        "sla_due_at": due.isoformat() if due else None,
        "sprint_ends_at": ends.isoformat(),
        "sla_due_before_sprint_end": None if due is None else due < ends,
    }


def _event(
    incident: Incident,
    *,
    actor: Actor,
    at: datetime,
    event: str,
    old: str = "",
    new: str = "",
    note: str = "",
) -> None:
    history_record(incident=incident, actor=actor, at=at, event=event, old=old, new=new, note=note)


def _system_note(incident: Incident, body: str, at: datetime) -> None:
    Comment.objects.create(
        incident=incident, author=None, body=body, public=False, is_system=True, created_at=at
    )


def production_defect_create(
    *,
    board: Board,
    title: str,
    description: str,
    urgent: bool,
    estimate: Decimal | None,
    actor: Actor,
    at: datetime,
) -> Card:
    """The defect card of an escalation, placed by urgency: urgent (P1/P2) at the top of Ready
    in the expedite lane, otherwise at the top of the backlog in the standard lane. Shared by
    an incident's escalation and a problem's (problems.services)."""
    backlog = board.columns.filter(category=ColumnCategory.BACKLOG).order_by("position", "id").first()
    standard_lane = board.lanes.filter(kind=LaneKind.STANDARD).order_by("position", "id").first()
    card = card_create(
        board=board,
        title=title[:200],
        actor=actor,
        type=CardType.PRODUCTION_DEFECT,
        class_of_service=ClassOfService.EXPEDITE if urgent else ClassOfService.STANDARD,
        estimate=estimate,
        description=description,
        column=None if urgent or backlog is None else backlog,
        lane=None if urgent else standard_lane,
        at=at,
    )
    card_rank_board_edge(card=card, top=urgent)
    return card


# ---------------------------------------------------------------- escalate
@transaction.atomic
def incident_escalate_to_development(
    *,
    incident: Incident,
    actor: Actor,
    team: Team | None = None,
    card: Card | None = None,
    estimate: Decimal | float | str | None = None,
    into_sprint: Sprint | bool | None = None,
    note: str = "",
    at: datetime | None = None,
) -> EscalationResult:
    """Create a production-defect card (or link `card`) for the service's development team.

    P1/P2: top of Ready in the expedite lane and into the active sprint as unplanned work.
    P3–P5: the backlog for triage, unless `into_sprint` is True (the active sprint) or a
    sprint. The incident goes to tier 3, on hold awaiting development; its team (the support
    group) and its assignee stay, so support keeps the case (SPEC §7).
    """
    now = at or timezone.now()
    incident = incident_lock(incident)
    if not incident.is_open:
        raise TransitionNotAllowed(
            f"{incident.key} is {incident.status}; only open incidents can be escalated."
        )
    open_escalation = (
        Escalation.objects.filter(incident=incident, returned_at__isnull=True).select_related("card").first()
    )
    if open_escalation is not None:
        raise DomainError(
            f"{incident.key} is already with development as {open_escalation.card.key}.",
            code="already_escalated",
        )
    team = _development_team(incident, team)
    board = _board_for(team)
    if card is not None:
        Card.objects.select_for_update().filter(pk=card.pk).values_list("pk", flat=True).get()
        card = Card.objects.select_related("column", "board").get(pk=card.pk)
        if not card.board.teams.filter(pk=team.pk).exists():
            raise ValidationError({"card": [f"{card.key} is not on a board of {team}."]})
        if card.cancelled_at or card.column.category == ColumnCategory.DONE:
            raise ValidationError({"card": [f"{card.key} is already finished; escalate with a new card."]})
        if estimate not in (None, "") and card.estimate is None:
            card_estimate_set(
                card=card, estimate=escalation_estimate(estimate, team, incident.priority), actor=actor
            )
    estimate_value = escalation_estimate(estimate, team, incident.priority) if card is None else card.estimate
    sprint = escalation_sprint(team, incident.priority, into_sprint)
    before = _panel(sprint) if sprint is not None else None

    if card is None:
        urgent = incident.priority in URGENT
        card = production_defect_create(
            board=board,
            title=f"{incident.key}: {incident.title}",
            description=(
                f"Escalated from {incident.key} ({incident.priority}, {incident.service}).\n\n"
                f"{incident.description}\n\n{note}".strip()
            ),
            urgent=urgent,
            estimate=estimate_value,
            actor=actor,
            at=now,
        )
        placement = Placement.EXPEDITE if urgent else (Placement.SPRINT if sprint else Placement.BACKLOG)
    else:
        placement = Placement.LINKED

    card_link_incident(card=card, incident=incident, actor=actor, at=now)
    if sprint is not None and card.sprint_id != sprint.pk:
        card_sprint_set(
            card=card,
            sprint=sprint,
            actor=actor,
            reason=f"Escalated from {incident.key} ({incident.priority})",
            source=WorkSource.ESCALATION,
        )

    from_team, from_assignee = incident.team, incident.assignee
    _event(incident, actor=actor, at=now, event="escalated_to_development", new=card.key, note=note)
    incident = incident_set_tier(
        incident=incident,
        actor=actor,
        tier=team.tier,
        note=f"{team} works {card.key}; {from_team} keeps the {record_noun(incident.type)}.",
        at=now,
    )
    if incident.status == Status.ON_HOLD and incident.hold_reason != HoldReason.AWAITING_DEVELOPMENT:
        incident = incident_transition(incident=incident, actor=actor, status=Status.IN_PROGRESS, at=now)
    if incident.status != Status.ON_HOLD:
        incident = incident_transition(
            incident=incident,
            actor=actor,
            status=Status.ON_HOLD,
            reason=HoldReason.AWAITING_DEVELOPMENT,
            note=f"Waiting on {card.key}.",
            at=now,
        )
    escalation = Escalation.objects.create(
        incident=incident,
        card=card,
        escalated_by=actor,
        at=now,
        from_team=from_team,
        from_assignee=from_assignee,
        to_team=team,
        placement=placement,
        sprint=sprint,
        estimate=card.estimate,
        note=note or "",
    )
    webhook_emit(
        Event.INCIDENT_ESCALATED,
        {**incident_payload(incident), "card": card_payload(card), "placement": placement},
        at=now,
    )
    impact = None
    if sprint is not None and before is not None:  # (before is read for every sprint)
        impact = _impact(before=before, after=_panel(sprint), sprint=sprint, card=card, incident=incident)
    return EscalationResult(escalation=escalation, card=card, sprint=sprint, sprint_impact=impact)


def escalation_preview(**kwargs: Any) -> EscalationResult:
    """What escalating would do, computed by the real service inside a transaction that is
    then rolled back: nothing is written, no notification is sent."""
    try:
        with transaction.atomic():
            result = incident_escalate_to_development(**kwargs)
            result.card = Card.objects.select_related("column", "lane").get(pk=result.card.pk)
            # Read while the card exists: where it would stand, and so when it is likely done.
            result.fix_forecast = card_fix_forecast(result.card)
            raise _Preview(result)
    except _Preview as done:
        return done.result


# ---------------------------------------------------------------- back-sync
def _return_to_support(
    escalation: Escalation, *, actor: Actor, at: datetime, outcome: str, message: str
) -> None:
    incident = incident_lock(escalation.incident)
    _system_note(incident, message, at)
    _event(incident, actor=actor, at=at, event=f"development_{outcome}", new=escalation.card.key)
    if incident.is_open:
        back = f"Back from development ({escalation.card.key})."
        if (
            incident.team_id == escalation.to_team_id
            and incident.team_id != escalation.from_team_id
            and incident.service.support_model != ServiceSupportModel.SWARM
        ):
            # Escalations made before support kept the case moved it to the development team.
            incident = incident_escalate(
                incident=incident, actor=actor, team=escalation.from_team, note=back, at=at
            )
        elif incident.tier != incident.team.tier:
            # The support group kept it (or a support engineer handed it on meanwhile: it stays
            # with the group that has it now); the work is back at that group's tier.
            incident = incident_set_tier(
                incident=incident, actor=actor, tier=incident.team.tier, note=back, at=at
            )
        if incident.status == Status.ON_HOLD or incident.status == Status.NEW:
            incident = incident_transition(incident=incident, actor=actor, status=Status.IN_PROGRESS, at=at)
        # Back to the person who handed it over, unless they left the team meanwhile.
        if (
            escalation.from_assignee_id
            and incident.assignee_id is None
            and incident.team.members.filter(pk=escalation.from_assignee_id).exists()
        ):
            incident = incident_assign(
                incident=incident, actor=actor, assignee=escalation.from_assignee, at=at
            )
        if outcome != Outcome.CANCELLED and escalation.to_team.auto_resolve_on_done:
            incident_transition(
                incident=incident,
                actor=actor,
                status=Status.RESOLVED,
                resolution_code=ResolutionCode.FIXED,
                note=f"Resolved automatically: {escalation.card.key} is {outcome}.",
                at=at,
            )
    escalation.outcome = outcome
    escalation.returned_at = at
    escalation.save(update_fields=["outcome", "returned_at"])
    notify_fix_returned(escalation=escalation, incident=incident)


def _open_escalations(cards: Iterable[Card]) -> list[Escalation]:
    return list(
        Escalation.objects.select_for_update(of=("self",))
        .filter(card__in=cards, returned_at__isnull=True)
        .select_related("card", "to_team")
        .order_by("pk")
    )


@transaction.atomic
def escalations_on_card_done(*, card: Card, actor: Actor = None, at: datetime | None = None) -> None:
    """The card reached a done column: every incident waiting on it returns to support."""
    at = at or timezone.now()
    for escalation in _open_escalations([card]):
        _return_to_support(
            escalation,
            actor=actor,
            at=at,
            outcome=Outcome.DONE,
            message=f"Development finished {card.key}. The fix is ready; please confirm with the customer.",
        )


@transaction.atomic
def escalations_on_card_cancelled(*, card: Card, actor: Actor = None, at: datetime | None = None) -> None:
    at = at or timezone.now()
    for escalation in _open_escalations([card]):
        _return_to_support(
            escalation,
            actor=actor,
            at=at,
            outcome=Outcome.CANCELLED,
            message=f"Development cancelled {card.key}; the incident is back in the support queue.",
        )


@transaction.atomic
def escalations_on_release_deployed(
    *, release: Release, actor: Actor = None, at: datetime | None = None
) -> None:
    at = at or timezone.now()
    for escalation in _open_escalations(release.cards.all()):
        _return_to_support(
            escalation,
            actor=actor,
            at=at,
            outcome=Outcome.DEPLOYED,
            message=f"{escalation.card.key} was deployed in release {release.name}.",
        )
