"""A sprint's life: created in planning (with its members' availability and, for rotation
teams, the next member on support), edited, started (the commitment and capacity are
recorded) and closed (unfinished cards are carried over, the velocity is recorded).

Lock order, everywhere: cards (in pk order), then sprints (in pk order).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from boards.models import Board, Card, ColumnCategory
from org.models import Team, TeamSupportModel
from tracker.exceptions import TransitionNotAllowed

from ..models import Sprint, SprintCarryOver, SprintCommitment, SprintMember, SprintState
from .common import (
    DEFAULT_FOCUS_FACTOR,
    DEFAULT_HOURS_PER_DAY,
    Actor,
    _dec,
    _guard_transition,
    _lock_sprints,
)
from .previews import _close_risks, _require_confirmation, sprint_start_preview
from .rotation import _next_support_member
from .scope import card_sprint_set


def _validate_sprint_fields(
    *,
    team: Team | None,
    name: str | None,
    start: date | None,
    end: date | None,
    board: Board | None,
    support_member: User | None,
    errors: dict[str, list[str]],
) -> None:
    if not (name or "").strip():
        errors["name"] = ["A sprint needs a name."]
    if start is None:
        errors["start"] = ["Give the first day."]
    if end is None:
        errors["end"] = ["Give the last day."]
    if start and end and end < start:
        errors["end"] = ["The last day cannot be before the first."]
    if start and end and (end - start).days > 90:
        errors["end"] = ["A sprint lasts at most 90 days."]
    if team is not None and not team.is_development:
        errors["team"] = ["Sprints belong to development teams."]
    if board is not None and team is not None and not board.teams.filter(pk=team.pk).exists():
        errors["board"] = [f"{board.name} is not one of {team.name}'s boards."]
    if (
        support_member is not None
        and team is not None
        and not team.members.filter(pk=support_member.pk).exists()
    ):
        errors["support_member"] = [f"{support_member} is not a member of {team.name}."]


@transaction.atomic
def sprint_create(
    *,
    team: Team | None,
    name: str,
    actor: Actor,
    start: date | None = None,
    end: date | None = None,
    goal: str = "",
    board: Board | None = None,
    support_member: User | None = None,
) -> Sprint:
    """A new sprint in planning, with an availability row for every team member and, for
    rotation teams, the next member on support."""
    errors: dict[str, list[str]] = {}
    if team is None:
        errors["team"] = ["Choose a team."]
    if start is not None and end is None and team is not None:
        end = start + timedelta(days=team.sprint_length_days - 1)
    _validate_sprint_fields(
        team=team, name=name, start=start, end=end, board=board, support_member=support_member, errors=errors
    )
    if errors:
        raise ValidationError(errors)
    # The checks above refused a missing team or day.
    assert team is not None and start is not None and end is not None
    if support_member is None and team.support_model == TeamSupportModel.ROTATION:
        support_member = _next_support_member(team)
    if board is None:
        boards = list(team.boards.order_by("pk")[:2])
        board = boards[0] if len(boards) == 1 else None
    sprint = Sprint.objects.create(
        team=team,
        board=board,
        name=name.strip(),
        goal=goal or "",
        start=start,
        end=end,
        support_member=support_member,
    )
    SprintMember.objects.bulk_create(
        SprintMember(
            sprint=sprint, user=user, hours_per_day=DEFAULT_HOURS_PER_DAY, focus_factor=DEFAULT_FOCUS_FACTOR
        )
        for user in team.members.filter(is_active=True).order_by("pk")
    )
    return sprint


class _Missing(Enum):
    MISSING = "missing"


_MISSING = _Missing.MISSING


@transaction.atomic
def sprint_update(
    *,
    sprint: Sprint,
    actor: Actor,
    name: str | None | _Missing = _MISSING,
    goal: str | None | _Missing = _MISSING,
    start: date | None | _Missing = _MISSING,
    end: date | None | _Missing = _MISSING,
    board: Board | None | _Missing = _MISSING,
    support_member: User | None | _Missing = _MISSING,
) -> Sprint:
    """Edit a sprint. Dates and board are fixed once it starts; a closed sprint is history."""
    sprint = _lock_sprints(sprint)[sprint.pk]
    if sprint.state == SprintState.CLOSED:
        raise TransitionNotAllowed(f"{sprint.name} is closed; it can no longer be edited.")
    new_name = sprint.name if name is _MISSING else (name or "").strip()
    new_start = sprint.start if start is _MISSING else start
    new_end = sprint.end if end is _MISSING else end
    new_board = sprint.board if board is _MISSING else board
    new_support = sprint.support_member if support_member is _MISSING else support_member
    values: dict[str, Any] = {
        "name": new_name,
        "goal": sprint.goal if goal is _MISSING else (goal or ""),
        "start": new_start,
        "end": new_end,
        "board": new_board,
        "support_member": new_support,
    }
    errors: dict[str, list[str]] = {}
    if sprint.state != SprintState.PLANNING:
        for field in ("start", "end", "board"):
            if values[field] != getattr(sprint, field):
                errors[field] = ["Fixed once the sprint has started."]
    _validate_sprint_fields(
        team=sprint.team,
        name=new_name,
        start=new_start,
        end=new_end,
        board=new_board,
        support_member=new_support,
        errors=errors,
    )
    if errors:
        raise ValidationError(errors)
    changed = [f for f, v in values.items() if getattr(sprint, f) != v]
    for field in changed:
        setattr(sprint, field, values[field])
    if changed:
        sprint.save(update_fields=changed)
    return sprint


@transaction.atomic
def sprint_start(
    *, sprint: Sprint, actor: Actor, confirm: bool = False, at: datetime | None = None
) -> Sprint:
    """Planning -> active: record the commitment (cards and their estimates) and the
    capacity as they stand now. One active sprint per team. Starting before the first
    day or over capacity needs `confirm` (409 confirmation_required)."""
    from ..selectors import sprint_capacity_get

    now = at or timezone.now()
    sprint = _lock_sprints(sprint)[sprint.pk]
    _guard_transition(sprint, SprintState.ACTIVE)
    if Sprint.objects.filter(team_id=sprint.team_id, state=SprintState.ACTIVE).exists():
        raise TransitionNotAllowed(f"{sprint.team.name} already has an active sprint; close it first.")
    _require_confirmation(f"start {sprint.name}", sprint_start_preview(sprint=sprint, at=now).risks, confirm)
    cards = list(Card.objects.filter(sprint=sprint).values_list("pk", "estimate"))
    SprintCommitment.objects.bulk_create(
        SprintCommitment(sprint=sprint, card_id=pk, estimate=_dec(estimate)) for pk, estimate in cards
    )
    capacity = sprint_capacity_get(sprint)
    sprint.committed = sum((_dec(e) for _, e in cards), Decimal("0"))
    sprint.capacity_at_start = capacity.capacity
    sprint.state = SprintState.ACTIVE
    sprint.started_at = now
    try:
        with transaction.atomic():
            sprint.save(update_fields=["committed", "capacity_at_start", "state", "started_at"])
    except IntegrityError:
        raise TransitionNotAllowed(
            f"{sprint.team.name} already has an active sprint; close it first."
        ) from None
    return sprint


@transaction.atomic
def sprint_close(
    *,
    sprint: Sprint,
    actor: Actor,
    carry_over_to: Sprint | None = None,
    confirm: bool = False,
    at: datetime | None = None,
) -> Sprint:
    """Active -> closed: unfinished cards go to `carry_over_to` (another open sprint of the
    team) or back to the backlog, each through `card_sprint_set` so the log shows it, and
    each recorded as a carry-over of the closed sprint; the finished estimates become the
    sprint's velocity. Closing before the last day needs `confirm`."""
    now = at or timezone.now()
    if carry_over_to is not None:
        if carry_over_to.pk == sprint.pk:
            raise ValidationError({"carry_over_to": ["Choose another sprint than the one closing."]})
        if carry_over_to.team_id != sprint.team_id:
            raise ValidationError({"carry_over_to": ["Choose a sprint of the same team."]})
    unfinished = list(
        Card.objects.select_for_update()
        .filter(sprint=sprint)
        .exclude(column__category=ColumnCategory.DONE)
        .order_by("pk")
    )
    locked = _lock_sprints(sprint, carry_over_to)
    sprint = locked[sprint.pk]
    _guard_transition(sprint, SprintState.CLOSED)
    target = locked.get(carry_over_to.pk) if carry_over_to else None
    if target is not None and target.state == SprintState.CLOSED:
        raise ValidationError({"carry_over_to": [f"{target.name} is closed."]})
    _require_confirmation(f"close {sprint.name}", _close_risks(sprint, timezone.localdate(now)), confirm)
    columns: dict[int, str] = dict(
        Card.objects.filter(pk__in=[c.pk for c in unfinished]).values_list("pk", "column__name")
    )
    SprintCarryOver.objects.bulk_create(
        SprintCarryOver(
            sprint=sprint,
            card=card,
            to_sprint=target,
            estimate=card.estimate,
            column_name=columns.get(card.pk, "")[:60],
            at=now,
            actor=actor,
        )
        for card in unfinished
    )
    reason = (
        f"Carried over from {sprint.name} to {target.name}"
        if target
        else f"Back to the backlog from {sprint.name}"
    )
    for card in unfinished:
        card_sprint_set(card=card, sprint=target, actor=actor, reason=reason, at=now)
    done = Card.objects.filter(sprint=sprint, column__category=ColumnCategory.DONE).aggregate(
        s=Sum("estimate")
    )
    sprint.velocity = _dec(done["s"])
    sprint.state = SprintState.CLOSED
    sprint.closed_at = now
    sprint.save(update_fields=["velocity", "state", "closed_at"])
    return sprint
