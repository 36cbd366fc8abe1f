"""Sprint planning as boards see it: the implementation of `boards.hooks.SprintPlanning`.

Boards sit below sprints, so they reach sprint planning only through this port, which the
sprints app registers in its `AppConfig.ready()`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from boards.models import Board

from . import services
from .models import Sprint, SprintState


def card_sprint_set(**kwargs: Any) -> Any:
    """`sprints.services.card_sprint_set`: the one writer of a card's sprint."""
    return services.card_sprint_set(**kwargs)


def card_estimate_set(**kwargs: Any) -> Any:
    """`sprints.services.card_estimate_set`: the one writer of a card's estimate."""
    return services.card_estimate_set(**kwargs)


def sprints_for_board(*, board: Board, open_only: bool = False) -> QuerySet[Sprint]:
    """The sprints that plan `board`, newest first (`open_only`: not closed)."""
    qs = Sprint.objects.filter(board=board).order_by("-start", "-id")
    return qs.exclude(state=SprintState.CLOSED) if open_only else qs


def active_sprint(*, board: Board) -> Sprint | None:
    """The board's running sprint, with its support member and team."""
    return (
        Sprint.objects.filter(board=board, state=SprintState.ACTIVE)
        .select_related("support_member", "team")
        .order_by("-start")
        .first()
    )
