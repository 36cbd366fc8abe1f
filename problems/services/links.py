"""Grouping incidents under a problem, and taking them out again.

Each incident is linked in its own savepoint: one refused incident (it belongs to another
problem) does not undo the others, and the result says which were linked and why any were
refused. When the problem is with development, a newly linked open incident joins its card
(escalated onto it like any incident: tier 3, on hold awaiting development, support keeps it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from boards.models import Card, ColumnCategory
from boards.services import card_link_incident
from escalation.models import Escalation
from escalation.services import incident_escalate_to_development
from incidents.history import history_record
from incidents.models import Incident
from incidents.services import incident_lock
from org.models import Team
from tracker.exceptions import DomainError, TransitionNotAllowed

from ..models import Problem, ProblemIncident
from ..permissions import can_create_problem
from ..permissions import can_link as can_link_problem
from .common import Actor, problem_lock, record, refusal_text


@dataclass
class LinkOne:
    incident: Incident
    linked: bool = False
    already: bool = False
    escalated: bool = False
    refused: str = ""
    # Linked, but not put on the problem's card (it waits on another card, say): why.
    not_escalated: str = ""


@dataclass
class LinkResult:
    """What problem_link_incidents did, incident by incident."""

    problem: Problem
    linked: list[Incident] = field(default_factory=list)
    already: list[Incident] = field(default_factory=list)
    escalated: list[Incident] = field(default_factory=list)
    # incident key -> why it was not linked / not put on the problem's card
    refused: dict[str, str] = field(default_factory=dict)
    not_escalated: dict[str, str] = field(default_factory=dict)

    def add(self, one: LinkOne) -> None:
        if one.refused:
            self.refused[one.incident.key] = one.refused
        if one.linked:
            self.linked.append(one.incident)
        if one.already:
            self.already.append(one.incident)
        if one.escalated:
            self.escalated.append(one.incident)
        if one.not_escalated:
            self.not_escalated[one.incident.key] = one.not_escalated


def card_is_open(card: Card | None) -> bool:
    return card is not None and card.cancelled_at is None and card.column.category != ColumnCategory.DONE


def card_team(card: Card) -> Team | None:
    """The development team working the card: the one its first escalation went to, else the
    first development team of its board."""
    escalation = Escalation.objects.filter(card=card).select_related("to_team").order_by("at", "id").first()
    if escalation is not None:
        return escalation.to_team
    return card.board.teams.filter(is_development=True).order_by("pk").first()


def link_one(problem: Problem, incident: Incident, *, actor: Actor, at: datetime) -> LinkOne:
    """Link one incident inside the caller's transaction, in a savepoint of its own. The
    caller holds the problem's row lock."""
    one = LinkOne(incident=incident)
    try:
        with transaction.atomic():
            incident = incident_lock(incident)
            one.incident = incident
            existing = ProblemIncident.objects.filter(incident=incident).select_related("problem").first()
            if existing is not None and existing.problem_id == problem.pk:
                one.already = True
                return one
            if existing is not None:
                one.refused = (
                    f"{incident.key} already belongs to {existing.problem.key}; unlink it there first."
                )
                return one
            ProblemIncident.objects.create(problem=problem, incident=incident, linked_at=at, linked_by=actor)
            history_record(incident=incident, actor=actor, at=at, event="problem_linked", new=problem.key)
            record(
                problem, actor=actor, at=at, event="incident_linked", new=incident.key, note=incident.title
            )
            one.linked = True
    except IntegrityError:  # linked to another problem by someone else at the same moment
        one.refused = f"{incident.key} was just linked to another problem; reload to see which."
        one.linked = False
        return one
    if problem.card_id is not None:
        _join_card(problem, one, actor=actor, at=at)
    return one


def _join_card(problem: Problem, one: LinkOne, *, actor: Actor, at: datetime) -> None:
    card = Card.objects.select_related("column", "board").get(problems=problem)
    incident = one.incident
    card_link_incident(card=card, incident=incident, actor=actor, at=at)
    if not (incident.is_open and card_is_open(card)):
        return
    waiting = (
        Escalation.objects.filter(incident=incident, returned_at__isnull=True).select_related("card").first()
    )
    if waiting is not None:
        if waiting.card_id != card.pk:
            one.not_escalated = f"{incident.key} already waits on {waiting.card.key}."
        return
    try:
        with transaction.atomic():
            incident_escalate_to_development(
                incident=incident,
                actor=actor,
                team=card_team(card),
                card=card,
                into_sprint=False,
                note=f"Linked to problem {problem.key}, which development works as {card.key}.",
                at=at,
            )
    except (ValidationError, DomainError) as exc:
        one.not_escalated = f"{incident.key} not put on {card.key}: {refusal_text(exc)}"
    else:
        one.escalated = True


@transaction.atomic
def problem_link_incidents(
    *, problem: Problem, incidents: Iterable[Incident], actor: Actor, at: datetime | None = None
) -> LinkResult:
    """Group `incidents` under the problem (each in its own savepoint; see the module). Only a
    problem still being worked takes incidents: a resolved one is reopened first."""
    now = at or timezone.now()
    problem = problem_lock(problem)
    if not problem.is_open:
        raise TransitionNotAllowed(
            f"{problem.key} is {problem.get_status_display().lower()}; "
            + (
                "reopen it to link incidents."
                if problem.status == "resolved"
                else "it takes no more incidents."
            )
        )
    result = LinkResult(problem=problem)
    for incident in dict.fromkeys(incidents):
        result.add(link_one(problem, incident, actor=actor, at=now))
    return result


@transaction.atomic
def problem_unlink_incident(
    *, problem: Problem, incident: Incident, actor: Actor, note: str = "", at: datetime | None = None
) -> Problem:
    """Take an incident out of the problem (it was not this cause after all). An escalation
    already made onto the problem's card stays: support cancels or re-links it on the incident."""
    now = at or timezone.now()
    problem = problem_lock(problem)
    deleted, _ = ProblemIncident.objects.filter(problem=problem, incident=incident).delete()
    if not deleted:
        raise ValidationError({"incidents": [f"{incident.key} is not linked to {problem.key}."]})
    history_record(
        incident=incident, actor=actor, at=now, event="problem_unlinked", old=problem.key, note=note
    )
    record(problem, actor=actor, at=now, event="incident_unlinked", old=incident.key, note=note)
    return problem


def link_logged_incident(
    *, incident: Incident, form_data: Mapping[str, Any], actor: AbstractBaseUser | None
) -> None:
    """incidents.hooks.incident_logged: the agent logged the incident from one of the form's
    suggestions, in one click —

    - `problem=PRB-n` ("Log it linked to this known error"): the new incident joins that
      problem (and its card, when development works it);
    - `same_as=INC-n` ("Same as this open incident"): it joins INC-n's problem, or, when INC-n
      has none, a new problem groups the two (two reports of one symptom are a problem).

    Runs in the creation's transaction: a refusal is a ValidationError on the form and the
    incident is not logged either, so the agent sees why and chooses again."""
    user = actor if isinstance(actor, User) else None
    key = str(form_data.get("problem") or "").strip()
    same_as = str(form_data.get("same_as") or "").strip()
    if key:
        problem = Problem.objects.filter(key__iexact=key).first()
        if problem is None:
            raise ValidationError({"problem": [f"No problem {key}."]})
        if not can_link_problem(actor or AnonymousUser(), problem):
            raise ValidationError({"problem": ["Your role cannot link incidents to problems."]})
        _link_or_refuse(problem, incident, user)
    elif same_as:
        other = Incident.objects.filter(key__iexact=same_as).first()
        if other is None:
            raise ValidationError({"same_as": [f"No incident {same_as}."]})
        link = ProblemIncident.objects.filter(incident=other).select_related("problem").first()
        if link is not None and link.problem.is_open:
            _link_or_refuse(link.problem, incident, user)
            return
        if not can_create_problem(actor or AnonymousUser()):
            raise ValidationError({"same_as": ["Your role cannot open problems."]})
        from .lifecycle import problem_create  # lifecycle imports this module

        problem_create(
            actor=user,
            title=other.title,
            description=f"{other.key} and {incident.key} report the same symptom.",
            incidents=[other, incident] if link is None else [incident],
        )


def _link_or_refuse(problem: Problem, incident: Incident, actor: Actor) -> None:
    try:
        result = problem_link_incidents(problem=problem, incidents=[incident], actor=actor)
    except TransitionNotAllowed as exc:
        raise ValidationError({"problem": [exc.detail]}) from None
    if result.refused:
        raise ValidationError({"problem": list(result.refused.values())})
