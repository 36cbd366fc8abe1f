"""A problem escalated to development: one defect card for all its incidents, and the fix
flowing back.

`problem_escalate_to_development` creates (or links) the card once, places it like an
incident's escalation placed by its most urgent open incident, then escalates every open
incident onto it through escalation.services — so each incident goes to tier 3, on hold
awaiting development, its support group keeping it, and gets its Escalation row. When the
card is done, cancelled or deployed, escalation's back-sync already returns every incident
linked to the card (it walks all open escalations of the card); the problem's own history
notes it here, and its owner is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from boards.models import Card, Release
from boards.selectors import board_for_team, sla_due_subquery
from escalation.models import Escalation
from escalation.services import (
    URGENT,
    escalation_estimate,
    escalation_sprint,
    incident_escalate_to_development,
    production_defect_create,
)
from incidents.models import OPEN_STATUSES, Incident
from notifications.models import Kind as NotificationKind
from notifications.services import notification_create
from org.models import Team
from sprints.models import Sprint, WorkSource
from sprints.selectors import PanelView, sprint_panel
from sprints.services import card_estimate_set, card_sprint_set
from tracker.exceptions import DomainError, TransitionNotAllowed

from ..models import Problem, ProblemStatus
from .common import Actor, bump, problem_lock, record, refusal_text
from .links import card_is_open

PRIORITY_ORDER = ("P1", "P2", "P3", "P4", "P5")


@dataclass
class ProblemEscalationResult:
    problem: Problem
    card: Card
    sprint: Sprint | None
    sprint_impact: dict[str, Any] | None
    placement: str
    escalated: list[Incident] = field(default_factory=list)
    # incident key -> why it was not put on the card (it waits on another card, say)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def escalation(self) -> dict[str, str]:
        """For the shared impact template (escalation/_impact.html)."""
        return {"placement": self.placement}

    @property
    def sla_due(self) -> datetime | None:
        due = (self.sprint_impact or {}).get("sla_due_at")
        return datetime.fromisoformat(due) if due else None

    work_label = "New production defect for the problem"
    work_noun = "problem"
    action_label = "escalating"


class _Preview(Exception):
    def __init__(self, result: ProblemEscalationResult) -> None:
        self.result = result


def open_incidents_of(problem: Problem) -> list[Incident]:
    """The problem's open incidents, most urgent first."""
    return list(
        Incident.objects.filter(problem_link__problem=problem, status__in=OPEN_STATUSES)
        .select_related("service__team", "team")
        .order_by("priority", "created_at", "pk")
    )


def lead_priority(problem: Problem, incidents: list[Incident]) -> str:
    """The problem's urgency: its most urgent open incident's priority (P3 with none open)."""
    if incidents:
        return min((i.priority for i in incidents), key=PRIORITY_ORDER.index)
    linked = list(Incident.objects.filter(problem_link__problem=problem).values_list("priority", flat=True))
    return min(linked, key=PRIORITY_ORDER.index) if linked else "P3"


def _team(problem: Problem, incidents: list[Incident], team: Team | None) -> Team:
    if team is None and problem.service is not None:
        team = problem.service.team
    if team is None:
        team = next((i.service.team for i in incidents if i.service.team_id), None)
    if team is None:
        raise ValidationError(
            {"team": [f"{problem.key} has no service with a development team; choose one."]}
        )
    if not team.is_development:
        raise ValidationError({"team": [f"{team} is not a development team."]})
    return team


def _existing_card(card: Card, team: Team) -> Card:
    Card.objects.select_for_update().filter(pk=card.pk).values_list("pk", flat=True).get()
    card = Card.objects.select_related("column", "board").get(pk=card.pk)
    if not card.board.teams.filter(pk=team.pk).exists():
        raise ValidationError({"card": [f"{card.key} is not on a board of {team}."]})
    if not card_is_open(card):
        raise ValidationError({"card": [f"{card.key} is already finished; escalate with a new card."]})
    return card


def _description(problem: Problem, incidents: list[Incident], note: str) -> str:
    keys = ", ".join(i.key for i in incidents[:20]) + (" …" if len(incidents) > 20 else "")
    parts = [
        f"Problem {problem.key}"
        + (
            f" ({len(incidents)} open incident{'s' if len(incidents) != 1 else ''}: {keys})"
            if incidents
            else ""
        )
        + ".",
        problem.description,
        f"Root cause: {problem.root_cause}" if problem.root_cause else "",
        f"Workaround in use: {problem.workaround}" if problem.workaround else "",
        note,
    ]
    return "\n\n".join(p for p in parts if p).strip()


@transaction.atomic
def problem_escalate_to_development(
    *,
    problem: Problem,
    actor: Actor,
    team: Team | None = None,
    card: Card | None = None,
    estimate: Decimal | float | str | None = None,
    into_sprint: Sprint | bool | None = None,
    note: str = "",
    at: datetime | None = None,
) -> ProblemEscalationResult:
    """One production-defect card for the problem (or link `card`), every open incident
    escalated onto it. Placement and sprint follow the most urgent open incident, as for an
    incident (P1/P2: expedite, active sprint; P3–P5: backlog unless `into_sprint`). A new
    problem becomes investigating. Incidents already waiting on another card are skipped
    and reported."""
    now = at or timezone.now()
    problem = problem_lock(problem)
    if not problem.is_open:
        raise TransitionNotAllowed(
            f"{problem.key} is {problem.get_status_display().lower()}; only open problems go to development."
        )
    if problem.card is not None and card_is_open(problem.card):
        raise DomainError(
            f"{problem.key} is already with development as {problem.card.key}.", code="already_escalated"
        )
    incidents = open_incidents_of(problem)
    priority = lead_priority(problem, incidents)
    team = _team(problem, incidents, team)
    board = board_for_team(team)
    if board is None:
        raise ValidationError({"team": [f"{team} has no board to put the defect card on."]})
    sprint = escalation_sprint(team, priority, into_sprint)
    before: PanelView | None = sprint_panel(sprint) if sprint is not None else None
    urgent = priority in URGENT
    if card is not None:
        card = _existing_card(card, team)
        if estimate not in (None, "") and card.estimate is None:
            card_estimate_set(card=card, estimate=escalation_estimate(estimate, team, priority), actor=actor)
        placement = "linked"
    else:
        card = production_defect_create(
            board=board,
            title=f"{problem.key}: {problem.title}",
            description=_description(problem, incidents, note),
            urgent=urgent,
            estimate=escalation_estimate(estimate, team, priority),
            actor=actor,
            at=now,
        )
        placement = "expedite" if urgent else ("sprint" if sprint else "backlog")
    if sprint is not None and card.sprint_id != sprint.pk:
        card_sprint_set(
            card=card,
            sprint=sprint,
            actor=actor,
            reason=f"Escalated from problem {problem.key} ({priority})",
            source=WorkSource.ESCALATION,
        )
    old_card = problem.card.key if problem.card else ""
    problem.card = card
    changed = ["card"]
    if problem.status == ProblemStatus.NEW:
        problem.status = ProblemStatus.INVESTIGATING
        changed.append("status")
        record(
            problem,
            actor=actor,
            at=now,
            event="status_changed",
            field="status",
            old=ProblemStatus.NEW,
            new=ProblemStatus.INVESTIGATING,
        )
    record(
        problem, actor=actor, at=now, event="escalated_to_development", old=old_card, new=card.key, note=note
    )
    bump(problem, changed)

    result = ProblemEscalationResult(
        problem=problem, card=card, sprint=sprint, sprint_impact=None, placement=placement
    )
    waiting = dict(
        Escalation.objects.filter(incident__in=incidents, returned_at__isnull=True).values_list(
            "incident_id", "card__key"
        )
    )
    for incident in incidents:
        if incident.pk in waiting:
            result.skipped[incident.key] = f"{incident.key} already waits on {waiting[incident.pk]}."
            continue
        try:
            with transaction.atomic():
                incident_escalate_to_development(
                    incident=incident,
                    actor=actor,
                    team=team,
                    card=card,
                    into_sprint=sprint if sprint is not None else False,
                    note=f"With problem {problem.key}. {note}".strip(),
                    at=now,
                )
        except (ValidationError, DomainError) as exc:
            result.skipped[incident.key] = refusal_text(exc)
        else:
            result.escalated.append(incident)
    if sprint is not None and before is not None:
        result.sprint_impact = _impact(before=before, sprint=sprint, card=card, incidents=incidents)
    return result


def _impact(*, before: PanelView, sprint: Sprint, card: Card, incidents: list[Incident]) -> dict[str, Any]:
    from escalation.services import _impact as escalation_impact  # the incident preview's numbers, as is

    card = Card.objects.select_related("column", "lane").get(pk=card.pk)
    impact = escalation_impact(
        before=before,
        after=sprint_panel(sprint),
        sprint=sprint,
        card=card,
        # `_impact` reads only the incident's resolution due, replaced below by the card's.
        incident=incidents[0] if incidents else None,  # type: ignore[arg-type]
    )
    # The card's SLA clock is the earliest of its incidents' (boards.selectors.sla_due_subquery).
    due: datetime | None = (
        Card.objects.filter(pk=card.pk).annotate(due=sla_due_subquery()).values_list("due", flat=True).get()
    )
    ends = datetime.fromisoformat(impact["sprint_ends_at"])
    impact["sla_due_at"] = due.isoformat() if due else None
    impact["sla_due_before_sprint_end"] = None if due is None else due < ends
    return impact


def problem_escalation_preview(**kwargs: Any) -> ProblemEscalationResult:
    """What escalating the problem would do, computed by the real service in a transaction
    that is then rolled back: nothing is written, nobody is notified."""
    try:
        with transaction.atomic():
            result = problem_escalate_to_development(**kwargs)
            result.card = Card.objects.select_related("column", "lane").get(pk=result.card.pk)
            raise _Preview(result)
    except _Preview as done:
        return done.result


# ---------------------------------------------------------------- back-sync (boards.hooks)
def _tell_problems(
    problems: list[Problem], *, card: Card, actor: Actor, at: datetime, event: str, text: str
) -> None:
    for problem in problems:
        record(problem, actor=actor, at=at, event=event, new=card.key)
        if problem.owner_id is not None:
            notification_create(
                kind=NotificationKind.FIX_RETURNED,
                recipients=[problem.owner_id],
                exclude=actor,
                title=f"{problem.key}: {text}",
                body=f"{text} Its incidents are back with support; resolve the problem and its incidents "
                "together from the problem page.",
                url=reverse("problems:detail", args=[problem.key]),
                at=at,
            )


def _problems_on(cards: list[Card]) -> list[Problem]:
    return list(
        Problem.objects.select_for_update(of=("self",))
        .filter(card__in=cards)
        .select_related("card")
        .order_by("pk")
    )


@transaction.atomic
def problems_on_card_done(*, card: Card, actor: Actor = None, at: datetime | None = None) -> None:
    """The problem's card reached done: its history says so and its owner is told (every
    incident on the card is returned to support by escalation's own back-sync)."""
    now = at or timezone.now()
    _tell_problems(
        _problems_on([card]),
        card=card,
        actor=actor,
        at=now,
        event="development_done",
        text=f"development finished {card.key}.",
    )


@transaction.atomic
def problems_on_card_cancelled(*, card: Card, actor: Actor = None, at: datetime | None = None) -> None:
    now = at or timezone.now()
    _tell_problems(
        _problems_on([card]),
        card=card,
        actor=actor,
        at=now,
        event="development_cancelled",
        text=f"development cancelled {card.key}.",
    )


@transaction.atomic
def problems_on_release_deployed(
    *, release: Release, actor: Actor = None, at: datetime | None = None
) -> None:
    now = at or timezone.now()
    cards = list(release.cards.all())
    for problem in _problems_on(cards):
        if problem.card is not None:
            _tell_problems(
                [problem],
                card=problem.card,
                actor=actor,
                at=now,
                event="development_deployed",
                text=f"{problem.card.key} was deployed in release {release.name}.",
            )
