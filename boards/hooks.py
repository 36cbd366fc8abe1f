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
    from django.db.models import QuerySet

    from accounts.models import User

    from .models import Board, Card, Release

    # Who acts: a signed-in user (the entry points check who may act first), or None for
    # the system (a task, a sweep). Boards record the actor on cards, moves and blocks.
    Actor = User | None


class CardDone(Protocol):
    def __call__(self, *, card: Card, actor: Actor, at: datetime) -> Any: ...


class CardCancelled(Protocol):
    def __call__(self, *, card: Card, actor: Actor, at: datetime) -> Any: ...


class ReleaseDeployed(Protocol):
    def __call__(self, *, release: Release, actor: Actor, at: datetime) -> Any: ...


card_done: list[CardDone] = []
card_cancelled: list[CardCancelled] = []
release_deployed: list[ReleaseDeployed] = []


def fire_card_done(*, card: Card, actor: Actor, at: datetime) -> None:
    for hook in card_done:
        hook(card=card, actor=actor, at=at)


def fire_card_cancelled(*, card: Card, actor: Actor, at: datetime) -> None:
    for hook in card_cancelled:
        hook(card=card, actor=actor, at=at)


def fire_release_deployed(*, release: Release, actor: Actor, at: datetime) -> None:
    for hook in release_deployed:
        hook(release=release, actor=actor, at=at)


class SprintPlanning(Protocol):
    """What boards need from sprint planning: set a card's sprint and its estimate (logged
    as scope changes), list a board's sprints, find its running sprint."""

    def card_sprint_set(self, *, card: Card, sprint: Any, actor: Actor, reason: str = "") -> Card: ...

    def card_estimate_set(
        self, *, card: Card, estimate: Decimal | None, actor: Actor, reason: str = ""
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
