"""Saved views: create, change, delete. The query is checked by the queue's own FilterSet,
so a saved view always reopens the queue with filters the queue accepts."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone

from accounts.models import User
from incidents.filters import IncidentFilter
from incidents.models import Incident
from incidents.selectors import QUEUE_SORTS, QUEUE_TABS
from org.models import Team

from ..models import SavedView
from ..permissions import can_share_with

NAME_MAX = SavedView._meta.get_field("name").max_length or 80
# The queue's parameters a view keeps: its filters, the sort and the tab.
QUERY_KEYS: tuple[str, ...] = (*IncidentFilter.base_filters, "sort", "tab")


class _Unset(enum.Enum):
    UNSET = enum.auto()


UNSET = _Unset.UNSET


def saved_view_query(raw: Mapping[str, Any]) -> dict[str, str]:
    """The query as the view keeps it: known parameters only, blank ones dropped, every value
    one the queue accepts. Raises ValidationError({"query": [...]}) naming what is wrong."""
    if not isinstance(raw, Mapping):
        raise ValidationError({"query": ["Give the filters as an object of parameter: value."]})
    problems: list[str] = []
    query: dict[str, str] = {}
    for key, value in raw.items():
        if key not in QUERY_KEYS:
            problems.append(f"{key}: not a queue filter (use {', '.join(QUERY_KEYS)}).")
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            problems.append(f"{key}: give one value, as text.")
            continue
        text = str(value).strip()
        if text:
            query[key] = text
    if "sort" in query and query["sort"] not in QUEUE_SORTS:
        problems.append(f"sort: use one of {', '.join(QUEUE_SORTS)}.")
    if "tab" in query and query["tab"] not in QUEUE_TABS:
        problems.append(f"tab: use one of {', '.join(QUEUE_TABS)}.")
    data = QueryDict(mutable=True)
    data.update({k: v for k, v in query.items() if k not in ("sort", "tab")})
    form = IncidentFilter(data, queryset=Incident.objects.none()).form
    if not form.is_valid():
        for field, errors in form.errors.items():
            problems += [f"{field}: {message}" for message in errors]
    if problems:
        raise ValidationError({"query": problems})
    return query


def _clean_name(name: str, *, owner: User, exclude: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the view a name."]})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": [f"Keep the name to {NAME_MAX} characters."]})
    clash = SavedView.objects.filter(owner=owner, name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ValidationError({"name": [f"{owner.display_name} already has a view called “{name}”."]})
    return name


def _check_team(actor: User, team: Team | None) -> None:
    if team is not None and not can_share_with(actor, team):
        raise ValidationError({"team": [f"You can share a view only with a team you belong to, not {team}."]})


def _save(view: SavedView) -> SavedView:
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError:  # the same name saved at the same moment
        raise ValidationError({"name": [f"There is already a view called “{view.name}”."]}) from None
    return view


@transaction.atomic
def saved_view_create(
    *,
    actor: User,
    name: str,
    query: Mapping[str, Any],
    team: Team | None = None,
    at: datetime | None = None,
) -> SavedView:
    """A view owned by `actor`; shared with `team` when given."""
    at = at or timezone.now()
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key, check in (
        ("name", lambda: _clean_name(name, owner=actor)),
        ("query", lambda: saved_view_query(query)),
        ("team", lambda: _check_team(actor, team)),
    ):
        try:
            cleaned[key] = check()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    view = SavedView(
        name=cleaned["name"], owner=actor, team=team, query=cleaned["query"], created_at=at, updated_at=at
    )
    return _save(view)


@transaction.atomic
def saved_view_update(
    *,
    view: SavedView,
    actor: User,
    name: str | _Unset = UNSET,
    query: Mapping[str, Any] | _Unset = UNSET,
    team: Team | None | _Unset = UNSET,
    at: datetime | None = None,
) -> SavedView:
    """Rename, change the filters, share (team) or unshare (team=None). The owner stays."""
    view = SavedView.objects.select_for_update().select_related("owner").get(pk=view.pk)
    errors: dict[str, list[str]] = {}
    try:
        if not isinstance(name, _Unset):
            view.name = _clean_name(name, owner=view.owner, exclude=view.pk)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        if not isinstance(query, _Unset):
            view.query = saved_view_query(query)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        if not isinstance(team, _Unset):
            if team is not None and team.pk != view.team_id:
                _check_team(actor, team)
            view.team = team
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    view.updated_at = at or timezone.now()
    return _save(view)


@transaction.atomic
def saved_view_delete(*, view: SavedView, actor: User) -> None:
    SavedView.objects.filter(pk=view.pk).delete()
