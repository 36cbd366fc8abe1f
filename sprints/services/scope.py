"""Sprint scope and the backlog order: every card that joins, leaves or is re-estimated in
a sprint goes through `card_sprint_set` / `card_estimate_set`, whatever the entry point
(board, API, escalation, triage, closing a sprint), so the scope-change log cannot be
bypassed; the planning page's moves and the backlog ranking live here too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from boards.models import Card
from boards.services.ranking import rank_above, rank_below, ranks_above, spread
from tracker.exceptions import DomainError

from ..models import ScopeChange, ScopeChangeKind, Sprint, SprintCommitment, SprintState, WorkSource
from .common import Actor, _dec, _lock_sprints


def _scope_source(*, sprint_id: int, card_id: int, requested: str | None = None) -> str:
    """Which bucket a change to this card's membership belongs to: committed cards are
    planned work; cards added after the start carry the source they were added with
    (a card added by hand after the start is unplanned "other" work)."""
    if SprintCommitment.objects.filter(sprint_id=sprint_id, card_id=card_id).exists():
        return WorkSource.PLANNED
    if requested and requested != WorkSource.PLANNED:
        return requested
    last = (
        ScopeChange.objects.filter(sprint_id=sprint_id, card_id=card_id, change=ScopeChangeKind.ADDED)
        .order_by("-at", "-id")
        .values_list("source", flat=True)
        .first()
    )
    return last or WorkSource.OTHER


def _log(
    *,
    sprint: Sprint,
    card: Card,
    change: str,
    actor: Actor,
    reason: str | None,
    delta: Decimal,
    source: str,
    at: datetime,
) -> ScopeChange:
    return ScopeChange.objects.create(
        sprint=sprint,
        card=card,
        at=at,
        actor=actor,
        change=change,
        source=source,
        reason=(reason or "").strip(),
        estimate_delta=delta,
    )


@transaction.atomic
def card_sprint_set(
    *,
    card: Card,
    sprint: Sprint | None,
    actor: Actor,
    reason: str = "",
    source: str = WorkSource.PLANNED,
    at: datetime | None = None,
) -> Card:
    """Move `card` into `sprint` (or out of any sprint when None).

    Planning sprints just change membership; an active sprint logs the card leaving or
    joining (with its estimate as the delta, and the source of the work); a closed sprint
    takes no new cards. The caller saves nothing else of the card afterwards.
    """
    now = at or timezone.now()
    if source not in WorkSource.values:
        raise ValidationError({"source": [f"Source must be one of {', '.join(WorkSource.values)}."]})
    locked = Card.objects.select_for_update().get(pk=card.pk)
    if sprint is not None and sprint.pk == locked.sprint_id:
        return card
    current = Sprint.objects.filter(pk=locked.sprint_id).first() if locked.sprint_id else None
    sprints = _lock_sprints(current, sprint)
    old = sprints.get(current.pk) if current else None
    new = sprints.get(sprint.pk) if sprint else None

    if new is not None:
        if new.state == SprintState.CLOSED:
            raise DomainError(f"{new.name} is closed; it takes no more cards.", code="sprint_closed")
        if new.board_id is not None and new.board_id != locked.board_id:
            raise ValidationError({"sprint": [f"{new.name} plans another board."]})
        if new.board_id is None:
            team_ids = set(locked.board.teams.values_list("pk", flat=True))
            if team_ids and new.team_id not in team_ids:
                raise ValidationError(
                    {"sprint": [f"{new.name} belongs to a team that does not use this board."]}
                )

    estimate = _dec(locked.estimate)
    if old is not None and old.state == SprintState.ACTIVE:
        _log(
            sprint=old,
            card=locked,
            change=ScopeChangeKind.REMOVED,
            actor=actor,
            reason=reason,
            delta=-estimate,
            source=_scope_source(sprint_id=old.pk, card_id=locked.pk),
            at=now,
        )
    if new is not None and new.state == SprintState.ACTIVE:
        _log(
            sprint=new,
            card=locked,
            change=ScopeChangeKind.ADDED,
            actor=actor,
            reason=reason,
            delta=estimate,
            source=_scope_source(sprint_id=new.pk, card_id=locked.pk, requested=source),
            at=now,
        )
    card.sprint = new
    card.save(update_fields=["sprint", "updated_at"])
    return card


@transaction.atomic
def card_estimate_set(
    *,
    card: Card,
    estimate: Decimal | int | float | str | None,
    actor: Actor,
    reason: str = "",
    at: datetime | None = None,
) -> Card:
    """Change a card's estimate; logged as a re-estimate when its sprint is active."""
    now = at or timezone.now()
    value: Decimal | None = None
    if estimate is not None:
        try:
            value = Decimal(str(estimate))
        except (InvalidOperation, ValueError):
            raise ValidationError({"estimate": ["Enter a number."]}) from None
        if not value.is_finite():
            raise ValidationError({"estimate": ["Enter a number."]})
        if value < 0:
            raise ValidationError({"estimate": ["An estimate cannot be negative."]})
        if value > Decimal("99999"):
            raise ValidationError({"estimate": ["That estimate is too large."]})
    locked = Card.objects.select_for_update().get(pk=card.pk)
    delta = _dec(value) - _dec(locked.estimate)
    if locked.sprint_id:
        sprint = _lock_sprints(Sprint(pk=locked.sprint_id))[locked.sprint_id]
        if sprint.state == SprintState.ACTIVE and delta != 0:
            _log(
                sprint=sprint,
                card=locked,
                change=ScopeChangeKind.RE_ESTIMATED,
                actor=actor,
                reason=reason,
                delta=delta,
                source=_scope_source(sprint_id=sprint.pk, card_id=locked.pk),
                at=now,
            )
    card.estimate = value
    card.save(update_fields=["estimate", "updated_at"])
    return card


@transaction.atomic
def cards_rerank(*, cards: Sequence[Card], actor: Actor) -> list[Card]:
    """Put `cards` in the given order (product backlog rank; smaller is higher), reusing
    the ranks they already hold so cards outside the list keep their places."""
    ids = [c.pk for c in cards]
    if len(set(ids)) != len(ids):
        raise ValidationError({"cards": ["Each card may appear once."]})
    locked = {c.pk: c for c in Card.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    if len(locked) != len(ids):
        raise ValidationError({"cards": ["Unknown card."]})
    ranks = sorted(c.backlog_rank for c in locked.values())
    if len(set(ranks)) != len(ranks):
        ranks = spread(len(ranks), start=ranks[0])
    changed = []
    for pk, rank in zip(ids, ranks, strict=True):
        if locked[pk].backlog_rank != rank:
            locked[pk].backlog_rank = rank
            changed.append(locked[pk])
    Card.objects.bulk_update(changed, ["backlog_rank"])
    return [locked[pk] for pk in ids]


@transaction.atomic
def cards_rank_top(*, cards: Sequence[Card], actor: Actor) -> list[Card]:
    """Put `cards`, in this order, above every other card of their boards."""
    locked = cards_rerank(cards=cards, actor=actor)
    if not locked:
        return locked
    boards = {c.board_id for c in locked}
    top = min(Card.objects.filter(board_id__in=boards).values_list("backlog_rank", flat=True))
    for card, rank in zip(locked, ranks_above(top, len(locked)), strict=True):
        card.backlog_rank = rank
    Card.objects.bulk_update(locked, ["backlog_rank"])
    return locked


def card_rank_board_edge(*, card: Card, top: bool) -> Card:
    """Rank `card` above (top) or below every other card of its board in the backlog order."""
    others = (
        Card.objects.filter(board_id=card.board_id)
        .exclude(pk=card.pk)
        .aggregate(lo=Min("backlog_rank"), hi=Max("backlog_rank"))
    )
    card.backlog_rank = rank_above(others["lo"] or 0) if top else rank_below(others["hi"] or 0)
    Card.objects.filter(pk=card.pk).update(backlog_rank=card.backlog_rank)
    return card


@transaction.atomic
def card_plan(
    *, card: Card, sprint: Sprint | None, actor: Actor, reason: str = "", position: str = "bottom"
) -> Card:
    """The planning page's move: into `sprint` (or back to the backlog when None), placed
    at the top or bottom of its new list."""
    card = card_sprint_set(card=card, sprint=sprint, actor=actor, reason=reason)
    neighbours = Card.objects.filter(board_id=card.board_id).exclude(pk=card.pk)
    if sprint is None:
        neighbours = neighbours.filter(sprint__isnull=True)
    else:
        neighbours = neighbours.filter(sprint=sprint)
    if position == "top":
        rank = rank_above(min(neighbours.values_list("backlog_rank", flat=True), default=None))
    else:
        rank = rank_below(max(neighbours.values_list("backlog_rank", flat=True), default=None))
    Card.objects.filter(pk=card.pk).update(backlog_rank=rank)
    card.backlog_rank = rank
    return card
