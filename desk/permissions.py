"""Who may see and change saved views, and who may act on incidents in bulk.

- Anyone on the staff keeps personal views; a personal view is its owner's alone.
- A view shared with a team is seen by the team's members and by managers (who look after
  the shared views of every team); it is changed by its owner or a manager.
- A view is shared with a team its owner's editor belongs to (a manager: any team).
- Bulk actions are for the roles that work incidents; each incident is then checked by the
  incidents app's own predicate for the action (desk.services.bulk).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from accounts.roles import Role, has_role, is_staff_member
from incidents.permissions import SUPPORT_ROLES
from org.models import Team

from .models import SavedView

Viewer = AbstractBaseUser | AnonymousUser


def can_use_saved_views(user: Viewer) -> bool:
    return is_staff_member(user)


def saved_views_visible_to(user: Viewer) -> QuerySet[SavedView]:
    """One's own views, one's teams' shared views, and, for managers, every shared view."""
    if not can_use_saved_views(user):
        return SavedView.objects.none()
    seen = Q(owner_id=user.pk) | Q(team__members=user.pk)
    if has_role(user, Role.MANAGER):
        seen |= Q(team__isnull=False)
    # A view shared with a team the viewer belongs to matches once per membership row.
    return SavedView.objects.filter(pk__in=SavedView.objects.filter(seen).values("pk"))


def can_edit_saved_view(user: Viewer, view: SavedView) -> bool:
    """Rename, change the filters, share or unshare, delete."""
    if not can_use_saved_views(user):
        return False
    if view.owner_id == user.pk:
        return True
    return view.team_id is not None and has_role(user, Role.MANAGER)


def can_share_with(user: Viewer, team: Team) -> bool:
    """A view is shared with one of the sharer's own teams; managers share with any team."""
    if has_role(user, Role.MANAGER):
        return True
    return user.is_authenticated and team.members.filter(pk=user.pk).exists()


def can_act_in_bulk(user: Viewer) -> bool:
    return has_role(user, *SUPPORT_ROLES)
