"""Reads of saved views: what a person sees on the queue and on the views page."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.urls import reverse

from accounts.models import User
from org.models import Team

from .models import SavedView
from .permissions import saved_views_visible_to


def saved_view_list(*, user: User) -> QuerySet[SavedView]:
    """Every view the user may see, by name, with its owner and team (one query)."""
    return saved_views_visible_to(user).select_related("owner", "team").order_by(Lower("name"), "id")


def saved_view_url(view: SavedView) -> str:
    """The queue with the view's filters, and the view named as open."""
    return reverse("incidents:queue") + "?" + urlencode({**view.query, "view": view.pk})


@dataclass
class QueueViews:
    """The views the queue page lists: the user's own, then their teams' shared views."""

    teams: list[Team]
    own: list[SavedView] = field(default_factory=list)
    shared: list[SavedView] = field(default_factory=list)
    # A shared view of a team the viewer is not in (a manager's reach): open by link only.
    others: list[SavedView] = field(default_factory=list)

    def find(self, pk: int) -> SavedView | None:
        return next((v for v in (*self.own, *self.shared, *self.others) if v.pk == pk), None)


def queue_views(*, user: User) -> QueueViews:
    """Two queries: the user's teams, and the views they may see."""
    teams = list(user.teams.order_by("name"))
    team_ids = {t.pk for t in teams}
    out = QueueViews(teams=teams)
    for view in saved_view_list(user=user):
        if view.owner_id == user.pk:
            out.own.append(view)
        elif view.team_id in team_ids:
            out.shared.append(view)
        else:
            out.others.append(view)
    return out
