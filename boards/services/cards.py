"""A card's life apart from its moves: creating, editing, blocking, cancelling it and
linking incidents to it. Sprint and estimate changes go to sprint planning (a hook), which
logs them as scope changes.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tracker.exceptions import TransitionNotAllowed
from tracker.models import next_number

from .. import hooks
from ..models import (
    BlockPeriod,
    Board,
    Card,
    CardIncident,
    CardMove,
    CardType,
    ClassOfService,
    Column,
    ColumnCategory,
    Lane,
    LaneKind,
    ReasonCode,
    ReasonKind,
    Release,
)
from .ranking import rank_for_position
from .wip import check_column_wip, check_lane_wip, validate_override_reason

if TYPE_CHECKING:
    from accounts.models import User
    from incidents.models import Incident

    from ..hooks import Actor

# Categories ordered as work flows; a card's timestamps follow the category it is in.
CATEGORY_ORDER = [
    ColumnCategory.BACKLOG,
    ColumnCategory.READY,
    ColumnCategory.IN_PROGRESS,
    ColumnCategory.DONE,
]


def _first_column(board: Board, category: str) -> Column | None:
    return board.columns.filter(category=category).order_by("position", "id").first()


def _default_lane(board: Board, kind: str = LaneKind.STANDARD) -> Lane | None:
    lane = board.lanes.filter(kind=kind).order_by("position", "id").first()
    return lane or board.lanes.order_by("position", "id").first()


def is_expedite(*, type: str, class_of_service: str | None) -> bool:
    """Policy from practice: production defects and expedite work jump the queue."""
    return type == CardType.PRODUCTION_DEFECT or class_of_service == ClassOfService.EXPEDITE


def apply_category_timestamps(card: Card, column: Column, now: datetime) -> list[str]:
    """Set the card's started and done times for the column it enters; the changed fields."""
    changed = []
    if column.category in (ColumnCategory.IN_PROGRESS, ColumnCategory.DONE) and card.started_at is None:
        card.started_at = now
        changed.append("started_at")
    if column.category == ColumnCategory.DONE:
        if card.done_at is None:
            card.done_at = now
            changed.append("done_at")
    elif card.done_at is not None:
        card.done_at = None
        changed.append("done_at")
    return changed


@transaction.atomic
def card_create(
    *,
    board: Board,
    title: str,
    actor: Actor,
    type: str = CardType.STORY,
    column: Column | None = None,
    lane: Lane | None = None,
    estimate: Decimal | None = None,
    description: str = "",
    class_of_service: str | None = None,
    assignee: User | None = None,
    sprint: Any = None,
    release: Release | None = None,
    due_date: date | None = None,
    position: int | None = None,
    override_reason: ReasonCode | None = None,
    at: datetime | None = None,
    sprint_reason: str = "",
) -> Card:
    """Create a card and record its first move (from nowhere into its column).

    Without a column, production defects and expedite cards enter at the top of the
    first ready column in the expedite lane (the policy placement is not held to the WIP
    maximum: that is what expedite means); other cards go to the bottom of the backlog.
    """
    now = at or timezone.now()
    title = (title or "").strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["A card needs a title."]
    if type not in CardType.values:
        errors["type"] = [f"Type must be one of {', '.join(CardType.values)}."]
    if class_of_service is None:
        class_of_service = (
            ClassOfService.EXPEDITE if type == CardType.PRODUCTION_DEFECT else ClassOfService.STANDARD
        )
    if class_of_service not in ClassOfService.values:
        errors["class_of_service"] = [f"Class of service must be one of {', '.join(ClassOfService.values)}."]
    if column is not None and column.board_id != board.pk:
        errors["column"] = ["That column belongs to another board."]
    if lane is not None and lane.board_id != board.pk:
        errors["lane"] = ["That lane belongs to another board."]
    if release is not None and release.board_id != board.pk:
        errors["release"] = ["That release belongs to another board."]
    if position is not None and (not isinstance(position, int) or position < 0):
        errors["position"] = ["Position must be a whole number ≥ 0."]
    if estimate is not None and estimate < 0:
        errors["estimate"] = ["An estimate cannot be negative."]
    if errors:
        raise ValidationError(errors)
    override_reason = validate_override_reason(override_reason)

    policy_placement = False
    if column is None:
        if is_expedite(type=type, class_of_service=class_of_service):
            column = _first_column(board, ColumnCategory.READY) or _first_column(
                board, ColumnCategory.BACKLOG
            )
            lane = lane or _default_lane(board, LaneKind.EXPEDITE)
            position = 0
            policy_placement = True
        else:
            column = (
                _first_column(board, ColumnCategory.BACKLOG) or board.columns.order_by("position").first()
            )
    if lane is None:
        lane = _default_lane(board)
    if column is None or lane is None:
        raise ValidationError({"board": ["The board needs at least one column and one lane."]})

    column = Column.objects.select_for_update(no_key=True).get(pk=column.pk)
    used_reason = None
    if not policy_placement:
        used_reason = check_column_wip(column=column, card_id=None, override_reason=override_reason)
        used_reason = (
            check_lane_wip(lane_id=lane.pk, column=column, card_id=None, override_reason=override_reason)
            or used_reason
        )
    rank = rank_for_position(board_id=board.pk, column_id=column.pk, lane_id=lane.pk, position=position)
    number = next_number(board.key_prefix)
    card = Card(
        board=board,
        key=f"{board.key_prefix}-{number}",
        title=title,
        description=description or "",
        type=type,
        class_of_service=class_of_service,
        estimate=estimate,
        assignee=assignee,
        column=column,
        lane=lane,
        rank=rank,
        release=release,
        due_date=due_date,
        created_by=actor,
        created_at=now,
    )
    apply_category_timestamps(card, column, now)
    card.save()
    CardMove.objects.create(
        card=card,
        at=now,
        actor=actor,
        to_column=column,
        to_lane=lane,
        override_reason=used_reason,
        note="created (expedite policy)" if policy_placement else "created",
    )
    if sprint is not None:
        hooks.sprint_planning().card_sprint_set(card=card, sprint=sprint, actor=actor, reason=sprint_reason)
    return card


EDITABLE_FIELDS = ("title", "description", "type", "class_of_service", "assignee", "release", "due_date")


class _Missing(enum.Enum):
    """A sprint or estimate left out of an update (None means "none")."""

    MISSING = enum.auto()


_MISSING = _Missing.MISSING


@transaction.atomic
def card_update(
    *,
    card: Card,
    actor: Actor,
    sprint: Any = _MISSING,
    estimate: Decimal | None | _Missing = _MISSING,
    reason: str = "",
    **fields: Any,
) -> Card:
    """Edit a card's fields. Sprint and estimate changes go through the sprint services,
    which log scope changes; pass only what changes. `sprint`: a sprints.Sprint, None (out
    of its sprint) or left out (boards name no app above them)."""

    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed here."] for name in unknown})
    card = Card.objects.select_for_update().get(pk=card.pk)
    errors: dict[str, list[str]] = {}
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
        if not fields["title"]:
            errors["title"] = ["A card needs a title."]
    if "type" in fields and fields["type"] not in CardType.values:
        errors["type"] = [f"Type must be one of {', '.join(CardType.values)}."]
    if "class_of_service" in fields and fields["class_of_service"] not in ClassOfService.values:
        errors["class_of_service"] = [f"Class of service must be one of {', '.join(ClassOfService.values)}."]
    release = fields.get("release")
    if release is not None and release.board_id != card.board_id:
        errors["release"] = ["That release belongs to another board."]
    if estimate is not _MISSING and estimate is not None and estimate < 0:
        errors["estimate"] = ["An estimate cannot be negative."]
    if sprint is not _MISSING and sprint is not None and sprint.board_id not in (None, card.board_id):
        errors["sprint"] = ["That sprint plans another board."]
    if errors:
        raise ValidationError(errors)

    changed = [name for name, value in fields.items() if getattr(card, name) != value]
    for name in changed:
        setattr(card, name, fields[name])
    if changed:
        card.save(update_fields=[*changed, "updated_at"])
    if estimate is not _MISSING and estimate != card.estimate:
        hooks.sprint_planning().card_estimate_set(card=card, estimate=estimate, actor=actor, reason=reason)
    if sprint is not _MISSING and (sprint.pk if sprint else None) != card.sprint_id:
        hooks.sprint_planning().card_sprint_set(card=card, sprint=sprint, actor=actor, reason=reason)
    return card


@transaction.atomic
def card_block(
    *, card: Card, reason: ReasonCode, actor: Actor, note: str = "", at: datetime | None = None
) -> Card:
    """Mark a card blocked with a block reason code; opens a BlockPeriod for the metrics."""
    now = at or timezone.now()
    if not isinstance(reason, ReasonCode) or reason.kind != ReasonKind.BLOCK or not reason.active:
        raise ValidationError({"reason": ["Choose an active block reason code."]})
    card = Card.objects.select_for_update().get(pk=card.pk)
    if card.blocked:
        raise TransitionNotAllowed(f"{card.key} is already blocked.")
    card.blocked = True
    card.block_reason = reason
    card.block_note = note or ""
    card.blocked_since = now
    card.save(update_fields=["blocked", "block_reason", "block_note", "blocked_since", "updated_at"])
    BlockPeriod.objects.create(card=card, reason=reason, note=note or "", started_at=now, started_by=actor)
    return card


@transaction.atomic
def card_unblock(*, card: Card, actor: Actor, at: datetime | None = None) -> Card:
    """Lift a card's block; closes its BlockPeriod."""
    now = at or timezone.now()
    card = Card.objects.select_for_update().get(pk=card.pk)
    if not card.blocked:
        raise TransitionNotAllowed(f"{card.key} is not blocked.")
    BlockPeriod.objects.filter(card=card, ended_at__isnull=True).update(ended_at=now)
    card.blocked = False
    card.block_reason = None
    card.block_note = ""
    card.blocked_since = None
    card.save(update_fields=["blocked", "block_reason", "block_note", "blocked_since", "updated_at"])
    return card


@transaction.atomic
def card_link_incident(
    *, card: Card, incident: Incident, actor: Actor, at: datetime | None = None
) -> CardIncident:
    """Link an incident to the card (once: linking it again changes nothing)."""
    link, _ = CardIncident.objects.get_or_create(
        card=card, incident=incident, defaults={"created_at": at or timezone.now(), "created_by": actor}
    )
    return link


@transaction.atomic
def card_cancel(*, card: Card, actor: Actor, reason: str = "", at: datetime | None = None) -> Card:
    """Drop a card: it leaves its sprint (logged) and the incidents waiting on it go back
    to the support queue. A cancelled card stays on record but no longer moves."""
    now = at or timezone.now()
    card = Card.objects.select_for_update().get(pk=card.pk)
    if card.cancelled_at is not None:
        raise TransitionNotAllowed(f"{card.key} is already cancelled.")
    if Column.objects.filter(pk=card.column_id, category=ColumnCategory.DONE).exists():
        raise TransitionNotAllowed(f"{card.key} is done; a finished card cannot be cancelled.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the card is cancelled; support reads this."]})
    if card.sprint_id:
        hooks.sprint_planning().card_sprint_set(
            card=card, sprint=None, actor=actor, reason=f"Cancelled: {reason}"
        )
    card.cancelled_at = now
    card.save(update_fields=["cancelled_at", "updated_at"])
    CardMove.objects.create(
        card=card,
        at=now,
        actor=actor,
        from_column_id=card.column_id,
        to_column_id=card.column_id,
        from_lane_id=card.lane_id,
        to_lane_id=card.lane_id,
        note=f"cancelled: {reason}"[:300],
    )
    hooks.fire_card_cancelled(card=card, actor=actor, at=now)
    return card
