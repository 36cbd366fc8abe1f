"""Releases: planning them and recording their deployment (which higher apps hear of)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tracker.exceptions import TransitionNotAllowed

from .. import hooks
from ..models import Board, Release

if TYPE_CHECKING:
    from ..hooks import Actor


@transaction.atomic
def release_create(*, board: Board, name: str, actor: Actor, planned_for: date | None = None) -> Release:
    """Plan a release of the board (names are unique per board)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["A release needs a name."]})
    if Release.objects.filter(board=board, name=name).exists():
        raise ValidationError({"name": ["This board already has a release with that name."]})
    return Release.objects.create(board=board, name=name, planned_for=planned_for)


@transaction.atomic
def release_update(*, release: Release, actor: Actor, name: str, planned_for: date | None = None) -> Release:
    """Rename a release or move its planned date. Its deployment is recorded only by
    release_mark_deployed, which runs the back-sync; never here."""
    release = Release.objects.select_for_update().get(pk=release.pk)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["A release needs a name."]})
    if Release.objects.filter(board_id=release.board_id, name=name).exclude(pk=release.pk).exists():
        raise ValidationError({"name": ["This board already has a release with that name."]})
    release.name = name
    release.planned_for = planned_for
    release.save(update_fields=["name", "planned_for"])
    return release


@transaction.atomic
def release_mark_deployed(*, release: Release, actor: Actor, at: datetime | None = None) -> Release:
    """Record the release's deployment, once; higher apps hear of it (hooks.release_deployed)."""
    release = Release.objects.select_for_update().get(pk=release.pk)
    if release.deployed_at is not None:
        raise TransitionNotAllowed(f"{release.name} was already deployed.")
    release.deployed_at = at or timezone.now()
    release.save(update_fields=["deployed_at"])
    hooks.fire_release_deployed(release=release, actor=actor, at=release.deployed_at)
    return release
