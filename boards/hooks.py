"""Moments in a card's life that higher apps react to, and the sprint planning port.

Boards sit below sprints and escalation: they never import them. Instead this module
names what happens here, and the higher apps subscribe once, in their `AppConfig.ready()`:

- `card_done`, `card_cancelled`, `release_deployed`: lists of callables, called in order
  inside the boards service's transaction (so a failing subscriber rolls the move back);
  escalation subscribes to send the waiting incidents back to support.
- `sprint_planning`: the one implementation of a card's sprint membership and estimate
  (sprints registers its services), since a card's sprint and estimate changes are scope
  changes that the sprints app logs.

Explicit and searchable, unlike a Django signal; see docs/architecture.md.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import QuerySet

    from .models import Board, Card, Release


class CardDone(Protocol):
    def __call__(self, *, card: Card, actor: AbstractBaseUser | None, at: datetime) -> Any: ...


class CardCancelled(Protocol):
    def __call__(self, *, card: Card, actor: AbstractBaseUser | None, at: datetime) -> Any: ...


class ReleaseDeployed(Protocol):
    def __call__(self, *, release: Release, actor: AbstractBaseUser | None, at: datetime) -> Any: ...


card_done: list[CardDone] = []
card_cancelled: list[CardCancelled] = []
release_deployed: list[ReleaseDeployed] = []


def fire_card_done(*, card: Card, actor: AbstractBaseUser | None, at: datetime) -> None:
    for hook in card_done:
        hook(card=card, actor=actor, at=at)


def fire_card_cancelled(*, card: Card, actor: AbstractBaseUser | None, at: datetime) -> None:
    for hook in card_cancelled:
        hook(card=card, actor=actor, at=at)


def fire_release_deployed(*, release: Release, actor: AbstractBaseUser | None, at: datetime) -> None:
    for hook in release_deployed:
        hook(release=release, actor=actor, at=at)


class SprintPlanning(Protocol):
    """What boards need from sprint planning: set a card's sprint and its estimate (logged
    as scope changes), list a board's sprints, find its running sprint."""

    def card_sprint_set(
        self, *, card: Card, sprint: Any, actor: AbstractBaseUser | None, reason: str = ""
    ) -> Card: ...

    def card_estimate_set(
        self, *, card: Card, estimate: Decimal | None, actor: AbstractBaseUser | None, reason: str = ""
    ) -> Card: ...

    def sprints_for_board(self, *, board: Board, open_only: bool = False) -> QuerySet[Any]: ...

    def active_sprint(self, *, board: Board) -> Any | None: ...


_planning: SprintPlanning | None = None


def register_sprint_planning(planning: SprintPlanning) -> None:
    global _planning
    _planning = planning


def sprint_planning() -> SprintPlanning:
    if _planning is None:
        raise ImproperlyConfigured("No app registered sprint planning (the sprints app does, in ready()).")
    return _planning
