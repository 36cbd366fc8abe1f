"""A development team's support rotation and delivery settings: who is on support in which
sprint (round robin over the saved order), and the team's sprint settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from org.models import Team, TeamSupportModel
from org.services import team_update

from ..models import RotationSlot, Sprint, SprintState
from .common import Actor


class RotationRow(TypedDict):
    """One coming sprint of `support_rotation_forecast`: `sprint` is None for one not created yet."""

    sprint: Sprint | None
    name: str
    start: Any
    member: User | None


def rotation_order(team: Team) -> list[User]:
    """The team's support rotation, in order: the saved order (active members still in
    the team), then members not placed yet, by username."""
    members = {m.pk: m for m in team.members.filter(is_active=True).order_by("username", "pk")}
    placed = [
        pk
        for pk in RotationSlot.objects.filter(team=team)
        .order_by("position", "pk")
        .values_list("user_id", flat=True)
        if pk in members
    ]
    rest = [pk for pk in members if pk not in set(placed)]
    return [members[pk] for pk in placed + rest]


def _after(order: list[User], last_id: int | None) -> User:
    ids = [m.pk for m in order]
    if last_id not in ids:
        return order[0]
    return order[(ids.index(last_id) + 1) % len(order)]


def _next_support_member(team: Team, *, exclude_sprint: Sprint | None = None) -> User | None:
    """Round robin over the rotation order: the member after the latest sprint's support
    engineer (by start date)."""
    order = rotation_order(team)
    if not order:
        return None
    previous = Sprint.objects.filter(team=team, support_member__isnull=False)
    if exclude_sprint is not None:
        previous = previous.exclude(pk=exclude_sprint.pk)
    last = previous.order_by("-start", "-pk").values_list("support_member_id", flat=True).first()
    return _after(order, last)


def support_rotation_forecast(team: Team, *, count: int = 4) -> list[RotationRow]:
    """Who is on support in the team's coming sprints: the open (planning or active)
    sprints as they are set, then the next `count` sprints still to be created, by the
    round robin. Rows: {sprint (or None), name, start, member}."""
    if team.support_model != TeamSupportModel.ROTATION:
        return []
    order = rotation_order(team)
    open_sprints = list(
        Sprint.objects.filter(team=team)
        .exclude(state=SprintState.CLOSED)
        .select_related("support_member")
        .order_by("start", "pk")
    )
    rows: list[RotationRow] = [
        {"sprint": sprint, "name": sprint.name, "start": sprint.start, "member": sprint.support_member}
        for sprint in open_sprints
    ]
    last_sprint = (
        open_sprints[-1]
        if open_sprints
        else Sprint.objects.filter(team=team).order_by("-start", "-pk").first()
    )
    last_id = last_sprint.support_member_id if last_sprint else None
    if last_id is None:
        last_id = (
            Sprint.objects.filter(team=team, support_member__isnull=False)
            .order_by("-start", "-pk")
            .values_list("support_member_id", flat=True)
            .first()
        )
    start = last_sprint.end + timedelta(days=1) if last_sprint else timezone.localdate()
    if not order:
        return rows
    member: User | None = None
    for i in range(count):
        member = _after(order, last_id if member is None else member.pk)
        rows.append({"sprint": None, "name": f"Next sprint +{i + 1}", "start": start, "member": member})
        start += timedelta(days=team.sprint_length_days)
    return rows


@transaction.atomic
def team_rotation_set(*, team: Team, actor: Actor, users: Sequence[User | int]) -> list[User]:
    """Save the support rotation's order: every active member of the team, once each."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    if not team.is_development:
        raise ValidationError({"team": ["Only development teams have a support rotation."]})
    members = set(team.members.filter(is_active=True).values_list("pk", flat=True))
    ids = [u if isinstance(u, int) else u.pk for u in users]
    errors = []
    if len(set(ids)) != len(ids):
        errors.append("Each member appears once in the rotation.")
    if set(ids) - members:
        errors.append("Only active members of the team can be on the rotation.")
    if members - set(ids):
        errors.append("Place every active member of the team in the rotation.")
    if errors:
        raise ValidationError({"rotation": errors})
    before = [m.username for m in rotation_order(team)]
    RotationSlot.objects.filter(team=team).delete()
    RotationSlot.objects.bulk_create(
        RotationSlot(team=team, user_id=pk, position=i) for i, pk in enumerate(ids)
    )
    order = rotation_order(team)
    after = [m.username for m in order]
    if after != before:
        from audit.services import audit_record

        audit_record(
            actor=actor,
            model="org.team",
            object_id=team.pk,
            action="updated",
            changes={"support_rotation": [before, after]},
            object_repr=team.name,
        )
    return order


TEAM_SETTING_FIELDS = (
    "capacity_unit",
    "sprint_length_days",
    "support_allocation_percent",
    "support_model",
    "default_estimates",
    "auto_resolve_on_done",
)


@transaction.atomic
def team_settings_update(*, team: Team, actor: Actor, **values: Any) -> Team:
    """A development team's delivery settings: the team service's rules, lock and audit
    (org.services.team_update), limited to these settings."""
    unknown = set(values) - set(TEAM_SETTING_FIELDS)
    if unknown:
        raise ValidationError({name: ["Not a delivery setting."] for name in unknown})
    if not Team.objects.filter(pk=team.pk, is_development=True).exists():
        raise ValidationError({"team": ["Only development teams have delivery settings."]})
    return team_update(team=team, actor=actor, **values)
