"""A member's availability in one sprint: days off, hours per day and focus factor, the
inputs of the sprint's capacity (`sprints.capacity`)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from tracker.exceptions import TransitionNotAllowed

from ..capacity import working_days
from ..models import SprintMember, SprintState
from .common import Actor

Number = Decimal | int | float | str | None


@transaction.atomic
def sprint_member_update(
    *,
    member: SprintMember,
    actor: Actor,
    days_off: Number = None,
    hours_per_day: Number = None,
    focus_factor: Number = None,
) -> SprintMember:
    """A member's availability in one sprint (not once the sprint is closed)."""
    member = SprintMember.objects.select_for_update().select_related("sprint").get(pk=member.pk)
    if member.sprint.state == SprintState.CLOSED:
        raise TransitionNotAllowed("The sprint is closed; its availability is history.")
    errors: dict[str, list[str]] = {}
    values: dict[str, Decimal] = {}
    for field, raw, low, high in (
        ("days_off", days_off, Decimal("0"), Decimal(working_days(member.sprint.start, member.sprint.end))),
        ("hours_per_day", hours_per_day, Decimal("0"), Decimal("24")),
        ("focus_factor", focus_factor, Decimal("0"), Decimal("1")),
    ):
        if raw is None:
            continue
        try:
            value = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            errors[field] = ["Enter a number."]
            continue
        if not value.is_finite():
            errors[field] = ["Enter a number."]
            continue
        if not (low <= value <= high):
            errors[field] = [f"Between {low} and {high}."]
        values[field] = value
    if errors:
        raise ValidationError(errors)
    for field, value in values.items():
        setattr(member, field, value)
    if values:
        member.save(update_fields=list(values))
    return member
