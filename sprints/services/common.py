"""What every sprint write shares: the actor type, the defaults of a new member's
availability, the state machine and the sprint lock (cards first, then sprints in pk order)."""

from __future__ import annotations

from decimal import Decimal

from accounts.models import User
from tracker.exceptions import TransitionNotAllowed

from ..models import Sprint, SprintState

Actor = User | None

DEFAULT_HOURS_PER_DAY = Decimal("6")
DEFAULT_FOCUS_FACTOR = Decimal("0.80")

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    SprintState.PLANNING: {SprintState.ACTIVE},
    SprintState.ACTIVE: {SprintState.CLOSED},
    SprintState.CLOSED: set(),
}
_VERBS: dict[str, str] = {SprintState.ACTIVE: "start", SprintState.CLOSED: "close"}


def _dec(value: Decimal | int | float | str | None) -> Decimal:
    return Decimal("0") if value is None else Decimal(str(value))


def _lock_sprints(*sprints: Sprint | None) -> dict[int, Sprint]:
    ids = sorted({s.pk for s in sprints if s is not None})
    return {s.pk: s for s in Sprint.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _guard_transition(sprint: Sprint, target: str) -> None:
    if target not in ALLOWED_TRANSITIONS[sprint.state]:
        raise TransitionNotAllowed(
            f"{sprint.name} is {sprint.get_state_display().lower()}; it cannot {_VERBS[target]}."
        )
