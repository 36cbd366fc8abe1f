"""What the problem services share: the row lock, the history row, field errors, the lifecycle."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError

from accounts.models import User
from tracker.exceptions import DomainError, StaleObject

from ..models import Problem, ProblemEvent, ProblemStatus

# Who acts: a user, or None for Tandem itself (a card moved by automation).
Actor = User | None
Errors = dict[str, list[str]]

# The one lifecycle of a problem. A known error is a problem with a workaround: clearing the
# workaround (problem_update) takes it back to investigating, so there is no direct way back.
# A resolved problem reopens to investigating (to known error again when it has a workaround).
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ProblemStatus.NEW: (
        ProblemStatus.INVESTIGATING,
        ProblemStatus.KNOWN_ERROR,
        ProblemStatus.RESOLVED,
        ProblemStatus.CLOSED,
    ),
    ProblemStatus.INVESTIGATING: (ProblemStatus.KNOWN_ERROR, ProblemStatus.RESOLVED, ProblemStatus.CLOSED),
    ProblemStatus.KNOWN_ERROR: (ProblemStatus.RESOLVED, ProblemStatus.CLOSED),
    ProblemStatus.RESOLVED: (ProblemStatus.INVESTIGATING, ProblemStatus.CLOSED),
    ProblemStatus.CLOSED: (),
}


def allowed_next_statuses(status: str) -> tuple[str, ...]:
    return ALLOWED_TRANSITIONS.get(status, ())


def problem_lock(problem: Problem, expected_version: int | None = None) -> Problem:
    """Lock the problem's row for this transaction and read it fresh (with a version check)."""
    Problem.objects.select_for_update().filter(pk=problem.pk).values_list("pk", flat=True).get()
    locked = Problem.objects.select_related("service__team", "owner", "card__column").get(pk=problem.pk)
    if expected_version is not None and int(expected_version) != locked.version:
        raise StaleObject(
            f"{locked.key} was changed by someone else since you loaded it "
            f"(version {expected_version}, now {locked.version}). Reload and try again."
        )
    return locked


def record(
    problem: Problem,
    *,
    actor: Actor,
    at: datetime,
    event: str,
    field: str = "",
    old: object = "",
    new: object = "",
    note: str = "",
) -> ProblemEvent:
    """Append one row to the problem's history (its timeline)."""
    return ProblemEvent.objects.create(
        problem=problem,
        at=at,
        actor=actor,
        event=event,
        field=field,
        old="" if old is None else str(old),
        new="" if new is None else str(new),
        note=note or "",
    )


def bump(problem: Problem, fields: list[str]) -> None:
    problem.version += 1
    problem.save(update_fields=[*fields, "version", "updated_at"])


def refusal_text(exc: ValidationError | DomainError) -> str:
    """A service's refusal as one line, for a summary of what was done and what was refused."""
    if isinstance(exc, DomainError):
        return exc.detail
    return " ".join(exc.messages)
