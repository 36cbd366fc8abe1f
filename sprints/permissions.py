"""Who may do what with sprints and team delivery settings. The browser views and the API
ask these same predicates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounts.roles import Role, has_role, is_staff_member

if TYPE_CHECKING:
    from org.models import Team

    from .models import Sprint, SprintMember

User = AbstractBaseUser | AnonymousUser


def can_read_sprints(user: User) -> bool:
    """Everyone with a role reads sprints, capacity and scope changes."""
    return is_staff_member(user)


def can_plan_sprint(user: User, sprint: Sprint | None = None) -> bool:
    """Create, edit, plan, start and close sprints: product owners and managers."""
    return has_role(user, Role.PRODUCT_OWNER, Role.MANAGER)


def can_edit_availability(user: User, member: SprintMember) -> bool:
    """Planners edit anyone's availability; a member may edit their own."""
    if can_plan_sprint(user, member.sprint):
        return True
    return has_role(user, Role.DEVELOPER) and member.user_id == getattr(user, "pk", None)


def can_edit_team_settings(user: User, team: Team | None = None) -> bool:
    return has_role(user, Role.PRODUCT_OWNER, Role.MANAGER)
