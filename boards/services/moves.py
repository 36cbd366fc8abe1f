"""Moving cards: the one move service (`card_move`) that the board's drag and drop, its
keyboard Move form, the API, pulls and the admin all go through, so the WIP limits, the
ranking and the move history cannot be bypassed; and the pull of a ready card.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tracker.exceptions import DomainError, TransitionNotAllowed
from webhooks.models import Event
from webhooks.payloads import card_payload
from webhooks.services import webhook_emit

from .. import hooks
from ..models import Card, CardMove, Column, ColumnCategory, Lane, ReasonCode
from .cards import apply_category_timestamps, card_unblock
from .ranking import rank_for_position
from .wip import check_column_wip, check_lane_wip, validate_override_reason

if TYPE_CHECKING:
    from ..hooks import Actor


@transaction.atomic
def card_move(
    *,
    card: Card,
    column: Column,
    lane: Lane | None = None,
    position: int | None = None,
    actor: Actor,
    override_reason: ReasonCode | None = None,
    override_note: str = "",
    unblock: bool = False,
    at: datetime | None = None,
    note: str = "",
) -> Card:
    """Move a card to index `position` of the cell (column × lane); None: the bottom.

    Locks the card, then the target column; counts the column's cards under that lock so
    two movers can never both take its last slot. Over a WIP limit the move needs an
    override reason (`override_note` says more; both are kept on the move). A blocked
    card reaches a done column only when the mover unblocks it with the move (`unblock`).
    Every entry point (drag, Move form, pull, API) comes through here.
    """
    now = at or timezone.now()
    errors: dict[str, list[str]] = {}
    if column is None:
        errors["column"] = ["Choose a column."]
    elif column.board_id != card.board_id:
        errors["column"] = ["That column belongs to another board."]
    if lane is not None and lane.board_id != card.board_id:
        errors["lane"] = ["That lane belongs to another board."]
    if position is not None and (not isinstance(position, int) or isinstance(position, bool) or position < 0):
        errors["position"] = ["Position must be a whole number ≥ 0."]
    if errors:
        raise ValidationError(errors)
    override_note = (override_note or "").strip()
    override_reason = validate_override_reason(override_reason, override_note)

    card = Card.objects.select_for_update().get(pk=card.pk)
    column = Column.objects.select_for_update(no_key=True).get(pk=column.pk)
    if card.cancelled_at is not None:
        raise TransitionNotAllowed(f"{card.key} was cancelled; it cannot be moved.")
    unblocked = False
    if card.blocked and column.category == ColumnCategory.DONE and column.pk != card.column_id:
        if not unblock:
            reason = f" ({card.block_reason})" if card.block_reason_id else ""
            raise DomainError(
                f"{card.key} is blocked{reason}; unblock it before moving it to {column.name}, "
                "or confirm that the move unblocks it.",
                code="card_blocked",
            )
        card = card_unblock(card=card, actor=actor, at=now)
        unblocked = True
    lane_id = lane.pk if lane is not None else card.lane_id
    from_column_id, from_lane_id = card.column_id, card.lane_id
    was_done = Column.objects.filter(pk=from_column_id, category=ColumnCategory.DONE).exists()

    used_reason = None
    if column.pk != from_column_id:
        used_reason = check_column_wip(column=column, card_id=card.pk, override_reason=override_reason)
    from_in_progress = Column.objects.filter(pk=from_column_id, category=ColumnCategory.IN_PROGRESS).exists()
    if not (from_in_progress and lane_id == from_lane_id):
        used_reason = (
            check_lane_wip(lane_id=lane_id, column=column, card_id=card.pk, override_reason=override_reason)
            or used_reason
        )
    card.rank = rank_for_position(
        board_id=card.board_id, column_id=column.pk, lane_id=lane_id, position=position, exclude_id=card.pk
    )
    card.column = column
    card.lane_id = lane_id
    changed = ["column", "lane", "rank", "updated_at"]
    changed += apply_category_timestamps(card, column, now)
    card.save(update_fields=changed)
    if (from_column_id, from_lane_id) != (column.pk, lane_id):
        CardMove.objects.create(
            card=card,
            at=now,
            actor=actor,
            from_column_id=from_column_id,
            to_column=column,
            from_lane_id=from_lane_id,
            to_lane_id=lane_id,
            override_reason=used_reason,
            note=_move_note(note, used_reason, override_note, unblocked=unblocked),
        )
        _after_move(card, column=column, was_done=was_done, actor=actor, at=now)
    return card


def _move_note(note: str, used_reason: ReasonCode | None, override_note: str, *, unblocked: bool) -> str:
    """The move's note: what moved it ("pulled"), then the override note when the WIP
    limit was overridden, then "unblocked" when the move lifted a block."""
    parts = [note.strip()] if note and note.strip() else []
    if used_reason is not None and override_note:
        parts.append(f"WIP override: {override_note}")
    if unblocked:
        parts.append("unblocked with the move")
    return " — ".join(parts)[:300]


def _after_move(card: Card, *, column: Column, was_done: bool, actor: Actor, at: datetime) -> None:
    """What a move sets off elsewhere: integrations hear of it, and a card reaching done
    sends the incidents waiting on it back to support (in this same transaction)."""
    webhook_emit(Event.CARD_MOVED, card_payload(card), at=at)
    if column.category == ColumnCategory.DONE and not was_done:
        webhook_emit(Event.CARD_DONE, card_payload(card), at=at)
        hooks.fire_card_done(card=card, actor=actor, at=at)


@transaction.atomic
def card_pull(
    *,
    card: Card,
    actor: Actor,
    override_reason: ReasonCode | None = None,
    override_note: str = "",
    at: datetime | None = None,
) -> Card:
    """A developer takes a ready card: it is assigned to them and moves to the first
    in-progress column of its board, in the same lane (409 when that column or the lane is
    full, unless the same WIP override as a move is given: a reason code and a note)."""
    card = Card.objects.select_for_update().get(pk=card.pk)
    source = card.column
    if source.category != ColumnCategory.READY:
        raise TransitionNotAllowed(
            f"Only cards in a ready column can be pulled; {card.key} is in {source.name}."
        )
    if card.blocked:
        raise TransitionNotAllowed(f"{card.key} is blocked; unblock it before pulling.")
    target = (
        Column.objects.filter(board_id=card.board_id, category=ColumnCategory.IN_PROGRESS)
        .order_by("position", "id")
        .first()
    )
    if target is None:
        raise TransitionNotAllowed("This board has no in-progress column to pull into.")
    card.assignee = actor
    card.save(update_fields=["assignee", "updated_at"])
    return card_move(
        card=card,
        column=target,
        actor=actor,
        override_reason=override_reason,
        override_note=override_note,
        at=at,
        note="pulled",
    )
