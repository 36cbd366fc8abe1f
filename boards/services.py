"""Every write on boards: creating boards, cards, moves, pulls, blocks and releases.

One move service (`card_move`) serves the board's drag and drop, its keyboard move form,
the API, pulls and the admin alike, so the WIP limit, the ranking and the move history
cannot be bypassed.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_created, audit_snapshot, audit_updated
from tracker.exceptions import DomainError, TransitionNotAllowed, WipLimitExceeded
from tracker.models import next_number

from . import hooks
from .models import (
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

# Ranks within a cell leave this much room between neighbours, so that inserting a card
# rarely needs to renumber the others.
RANK_GAP = 1 << 16

# Categories ordered as work flows; a card's timestamps follow the category it is in.
CATEGORY_ORDER = [
    ColumnCategory.BACKLOG,
    ColumnCategory.READY,
    ColumnCategory.IN_PROGRESS,
    ColumnCategory.DONE,
]


_UNSET = object()


def _wip_errors(label: str, wip_min, wip_max) -> dict[str, list[str]]:
    """Field -> messages for a pair of WIP limits (min above max is the minimum's error)."""
    errors = {}
    for name, value in (("wip_min", wip_min), ("wip_max", wip_max)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            errors[name] = [f"{label}: {name} must be a whole number ≥ 0."]
    if not errors and wip_min is not None and wip_max is not None and wip_min > wip_max:
        errors["wip_min"] = [f"{label}: wip_min cannot exceed wip_max."]
    return errors


# ------------------------------------------------------------------ boards
@transaction.atomic
def board_create(*, name, actor, teams=(), columns=(), lanes=(), key_prefix="DEV") -> Board:
    """Create a board with its columns and lanes, in the order given.

    `columns`: dicts {name, category, wip_min?, wip_max?}; `lanes`: dicts {name, kind, wip_max?}.
    """
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["A board needs a name."]
    elif Board.objects.filter(name__iexact=name).exists():
        errors["name"] = ["A board with this name already exists."]
    if not columns:
        errors["columns"] = ["A board needs at least one column."]
    for i, col in enumerate(columns):
        if not (col.get("name") or "").strip():
            errors.setdefault("columns", []).append(f"Column {i + 1} needs a name.")
        if col.get("category") not in ColumnCategory.values:
            errors.setdefault("columns", []).append(
                f"Column {i + 1}: category must be one of {', '.join(ColumnCategory.values)}."
            )
        for messages in _wip_errors(f"Column {i + 1}", col.get("wip_min"), col.get("wip_max")).values():
            errors.setdefault("columns", []).extend(messages)
    if not lanes:
        errors["lanes"] = ["A board needs at least one lane."]
    for i, lane in enumerate(lanes):
        if not (lane.get("name") or "").strip():
            errors.setdefault("lanes", []).append(f"Lane {i + 1} needs a name.")
        if lane.get("kind", LaneKind.STANDARD) not in LaneKind.values:
            errors.setdefault("lanes", []).append(
                f"Lane {i + 1}: kind must be one of {', '.join(LaneKind.values)}."
            )
        for messages in _wip_errors(f"Lane {i + 1}", None, lane.get("wip_max")).values():
            errors.setdefault("lanes", []).extend(messages)
    if errors:
        raise ValidationError(errors)

    board = Board.objects.create(name=name, key_prefix=key_prefix)
    if teams:
        board.teams.set(teams)
    Column.objects.bulk_create(
        Column(
            board=board,
            name=col["name"].strip(),
            category=col["category"],
            position=i,
            wip_min=col.get("wip_min"),
            wip_max=col.get("wip_max"),
        )
        for i, col in enumerate(columns)
    )
    Lane.objects.bulk_create(
        Lane(
            board=board,
            name=lane["name"].strip(),
            kind=lane.get("kind", LaneKind.STANDARD),
            wip_max=lane.get("wip_max"),
            position=i,
        )
        for i, lane in enumerate(lanes)
    )
    layout = {
        "columns": [None, [f"{c['name'].strip()} ({c['category']})" for c in columns]],
        "lanes": [
            None,
            [f"{lane['name'].strip()} ({lane.get('kind', LaneKind.STANDARD)})" for lane in lanes],
        ],
    }
    audit_created(actor=actor, instance=board, extra=layout)
    return board


@transaction.atomic
def board_update(*, board: Board, actor, name=None, teams=None) -> Board:
    """Rename a board or change the teams it belongs to."""
    board = Board.objects.select_for_update(no_key=True).get(pk=board.pk)
    before = audit_snapshot(board)
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": ["A board needs a name."]})
        if Board.objects.filter(name__iexact=name).exclude(pk=board.pk).exists():
            raise ValidationError({"name": ["A board with this name already exists."]})
        board.name = name
        board.save(update_fields=["name"])
    if teams is not None:
        board.teams.set(teams)
    audit_updated(actor=actor, instance=board, before=before)
    return board


@transaction.atomic
def column_update(*, column: Column, actor, name=None, wip_min=_UNSET, wip_max=_UNSET) -> Column:
    """Rename a column or change its WIP limits (None: no limit). A maximum below the cards
    already there is allowed: the column shows over its limit and takes no more."""
    column = Column.objects.select_for_update(no_key=True).get(pk=column.pk)
    before = audit_snapshot(column)
    new_min = column.wip_min if wip_min is _UNSET else wip_min
    new_max = column.wip_max if wip_max is _UNSET else wip_max
    errors = {}
    if name is not None and not name.strip():
        errors["name"] = ["A column needs a name."]
    errors.update(_wip_errors(column.name, new_min, new_max))
    if errors:
        raise ValidationError(errors)
    if name is not None:
        column.name = name.strip()
    column.wip_min, column.wip_max = new_min, new_max
    column.save(update_fields=["name", "wip_min", "wip_max"])
    audit_updated(actor=actor, instance=column, before=before)
    return column


@transaction.atomic
def column_add(*, board: Board, actor, name, category, wip_min=None, wip_max=None, position=None) -> Column:
    """Add a workflow step at index `position` of the board's columns (None: at the end)."""
    errors = {}
    if not (name or "").strip():
        errors["name"] = ["A column needs a name."]
    if category not in ColumnCategory.values:
        errors["category"] = [f"Category must be one of {', '.join(ColumnCategory.values)}."]
    errors.update(_wip_errors(name or "The column", wip_min, wip_max))
    if position is not None and (not isinstance(position, int) or isinstance(position, bool) or position < 0):
        errors["position"] = ["Position must be a whole number ≥ 0."]
    if errors:
        raise ValidationError(errors)
    Board.objects.select_for_update(no_key=True).get(pk=board.pk)  # one layout change at a time
    columns = list(board.columns.order_by("position", "id"))
    index = len(columns) if position is None else min(position, len(columns))
    column = Column(board=board, name=name.strip(), category=category, wip_min=wip_min, wip_max=wip_max)
    columns.insert(index, column)
    for i, col in enumerate(columns):
        col.position = i
    column.save()
    Column.objects.bulk_update([c for c in columns if c is not column], ["position"])
    audit_created(actor=actor, instance=column)
    return column


@transaction.atomic
def lane_add(*, board: Board, actor, name, kind=LaneKind.STANDARD, wip_max=None) -> Lane:
    """Add a swim lane at the bottom of the board."""
    errors = {}
    if not (name or "").strip():
        errors["name"] = ["A lane needs a name."]
    if kind not in LaneKind.values:
        errors["kind"] = [f"Kind must be one of {', '.join(LaneKind.values)}."]
    errors.update(_wip_errors(name or "The lane", None, wip_max))
    if errors:
        raise ValidationError(errors)
    Board.objects.select_for_update(no_key=True).get(pk=board.pk)
    last = board.lanes.order_by("-position").values_list("position", flat=True).first()
    lane = Lane.objects.create(
        board=board, name=name.strip(), kind=kind, wip_max=wip_max, position=0 if last is None else last + 1
    )
    audit_created(actor=actor, instance=lane)
    return lane


@transaction.atomic
def lane_update(*, lane: Lane, actor, name=None, wip_max=_UNSET) -> Lane:
    """Rename a lane or change its WIP limit: how many of its cards may be in progress at
    once across the board (the expedite lane's limit, usually 1)."""
    lane = Lane.objects.select_for_update(no_key=True).get(pk=lane.pk)
    before = audit_snapshot(lane)
    new_max = lane.wip_max if wip_max is _UNSET else wip_max
    errors = {}
    if name is not None and not name.strip():
        errors["name"] = ["A lane needs a name."]
    errors.update(_wip_errors(lane.name, None, new_max))
    if errors:
        raise ValidationError(errors)
    if name is not None:
        lane.name = name.strip()
    lane.wip_max = new_max
    lane.save(update_fields=["name", "wip_max"])
    audit_updated(actor=actor, instance=lane, before=before)
    return lane


def _first_column(board, category) -> Column | None:
    return board.columns.filter(category=category).order_by("position", "id").first()


def _default_lane(board, kind=LaneKind.STANDARD) -> Lane | None:
    lane = board.lanes.filter(kind=kind).order_by("position", "id").first()
    return lane or board.lanes.order_by("position", "id").first()


def is_expedite(*, type, class_of_service) -> bool:
    """Policy from practice: production defects and expedite work jump the queue."""
    return type == CardType.PRODUCTION_DEFECT or class_of_service == ClassOfService.EXPEDITE


# ------------------------------------------------------------------ ranking
def _cell_ranks(*, board_id, column_id, lane_id, exclude_id=None) -> list[tuple[int, int]]:
    qs = Card.objects.filter(board_id=board_id, column_id=column_id, lane_id=lane_id)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return list(qs.order_by("rank", "id").values_list("id", "rank"))


def _rank_for_position(*, board_id, column_id, lane_id, position, exclude_id=None) -> int:
    """The rank that puts a card at index `position` of a cell (None: at the bottom).

    The caller holds the column's row lock, so nobody else ranks into this cell meanwhile.
    """
    cell = _cell_ranks(board_id=board_id, column_id=column_id, lane_id=lane_id, exclude_id=exclude_id)
    if position is None or position > len(cell):
        position = len(cell)
    before = cell[position - 1][1] if position > 0 else None
    after = cell[position][1] if position < len(cell) else None
    if before is None and after is None:
        return 0
    if before is None:
        return after - RANK_GAP
    if after is None:
        return before + RANK_GAP
    if after - before > 1:
        return (before + after) // 2
    # No room left between neighbours: spread the cell out again, then insert.
    renumbered = [Card(pk=pk, rank=(i + 1) * RANK_GAP) for i, (pk, _) in enumerate(cell)]
    Card.objects.bulk_update(renumbered, ["rank"])
    return position * RANK_GAP + RANK_GAP // 2


# ------------------------------------------------------------------ WIP
def _check_wip(*, column: Column, card_id, override_reason) -> ReasonCode | None:
    """Refuse a move that would push `column` over its maximum, unless a WIP override
    reason is given. The caller holds the column's row lock (FOR NO KEY UPDATE: it queues
    other movers into the column, never a card or move row that only references it).
    Returns the reason used."""
    if column.wip_max is None:
        return None
    qs = Card.objects.filter(column=column, cancelled_at__isnull=True)
    if card_id:
        qs = qs.exclude(pk=card_id)
    if qs.count() + 1 <= column.wip_max:
        return None
    if override_reason is None:
        raise WipLimitExceeded(
            f"{column.name} is at its WIP limit of {column.wip_max}; "
            "finish something first or give a WIP override reason."
        )
    return override_reason


def _check_lane_wip(*, lane_id, column: Column, card_id, override_reason) -> ReasonCode | None:
    """A lane's limit counts its cards in progress across the board. The caller moves a
    card into an in-progress column of that lane; the lane's row lock serialises movers."""
    if lane_id is None or column.category != ColumnCategory.IN_PROGRESS:
        return None
    if not Lane.objects.filter(pk=lane_id, wip_max__isnull=False).exists():
        return None  # no limit: no lock, no wait
    # NO KEY UPDATE: movers of this lane queue up, while inserts that merely reference the
    # lane (a card created or moved elsewhere in it) do not wait on them.
    lane = Lane.objects.select_for_update(no_key=True).get(pk=lane_id)
    if lane.wip_max is None:
        return None
    qs = Card.objects.filter(
        lane_id=lane_id, column__category=ColumnCategory.IN_PROGRESS, cancelled_at__isnull=True
    )
    if card_id:
        qs = qs.exclude(pk=card_id)
    if qs.count() + 1 <= lane.wip_max:
        return None
    if override_reason is None:
        raise WipLimitExceeded(
            f"The {lane.name} lane is at its WIP limit of {lane.wip_max} in progress; "
            "finish something first or give a WIP override reason."
        )
    return override_reason


def _validate_override_reason(reason, note=""):
    """The WIP override a mover gives: an active override reason code, and an optional note
    that only makes sense with a reason."""
    if reason is None:
        if (note or "").strip():
            raise ValidationError(
                {"override_reason": ["Choose a WIP override reason for the note, or leave the note empty."]}
            )
        return None
    if not isinstance(reason, ReasonCode):
        raise ValidationError({"override_reason": ["Unknown reason code."]})
    if reason.kind != ReasonKind.WIP_OVERRIDE or not reason.active:
        raise ValidationError({"override_reason": ["Not an active WIP override reason code."]})
    return reason


def _apply_category_timestamps(card: Card, column: Column, now) -> list[str]:
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


# ------------------------------------------------------------------ cards
@transaction.atomic
def card_create(
    *,
    board: Board,
    title: str,
    actor,
    type=CardType.STORY,
    column: Column | None = None,
    lane: Lane | None = None,
    estimate=None,
    description="",
    class_of_service=None,
    assignee=None,
    sprint=None,
    release=None,
    due_date=None,
    position=None,
    override_reason=None,
    at=None,
    sprint_reason="",
) -> Card:
    """Create a card and record its first move (from nowhere into its column).

    Without a column, production defects and expedite cards enter at the top of the
    first ready column in the expedite lane (the policy placement is not held to the WIP
    maximum: that is what expedite means); other cards go to the bottom of the backlog.
    """
    now = at or timezone.now()
    title = (title or "").strip()
    errors = {}
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
    override_reason = _validate_override_reason(override_reason)

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
        used_reason = _check_wip(column=column, card_id=None, override_reason=override_reason)
        used_reason = (
            _check_lane_wip(lane_id=lane.pk, column=column, card_id=None, override_reason=override_reason)
            or used_reason
        )
    rank = _rank_for_position(board_id=board.pk, column_id=column.pk, lane_id=lane.pk, position=position)
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
    _apply_category_timestamps(card, column, now)
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


@transaction.atomic
def card_move(
    *,
    card: Card,
    column: Column,
    lane: Lane | None = None,
    position: int | None = None,
    actor,
    override_reason: ReasonCode | None = None,
    override_note="",
    unblock=False,
    at=None,
    note="",
) -> Card:
    """Move a card to index `position` of the cell (column × lane); None: the bottom.

    Locks the card, then the target column; counts the column's cards under that lock so
    two movers can never both take its last slot. Over a WIP limit the move needs an
    override reason (`override_note` says more; both are kept on the move). A blocked
    card reaches a done column only when the mover unblocks it with the move (`unblock`).
    Every entry point (drag, Move form, pull, API) comes through here.
    """
    now = at or timezone.now()
    errors = {}
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
    override_reason = _validate_override_reason(override_reason, override_note)

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
        used_reason = _check_wip(column=column, card_id=card.pk, override_reason=override_reason)
    from_in_progress = Column.objects.filter(pk=from_column_id, category=ColumnCategory.IN_PROGRESS).exists()
    if not (from_in_progress and lane_id == from_lane_id):
        used_reason = (
            _check_lane_wip(lane_id=lane_id, column=column, card_id=card.pk, override_reason=override_reason)
            or used_reason
        )
    card.rank = _rank_for_position(
        board_id=card.board_id, column_id=column.pk, lane_id=lane_id, position=position, exclude_id=card.pk
    )
    card.column = column
    card.lane_id = lane_id
    changed = ["column", "lane", "rank", "updated_at"]
    changed += _apply_category_timestamps(card, column, now)
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


def _move_note(note, used_reason, override_note, *, unblocked) -> str:
    """The move's note: what moved it ("pulled"), then the override note when the WIP
    limit was overridden, then "unblocked" when the move lifted a block."""
    parts = [note.strip()] if note and note.strip() else []
    if used_reason is not None and override_note:
        parts.append(f"WIP override: {override_note}")
    if unblocked:
        parts.append("unblocked with the move")
    return " — ".join(parts)[:300]


def _after_move(card: Card, *, column: Column, was_done: bool, actor, at):
    """What a move sets off elsewhere: integrations hear of it, and a card reaching done
    sends the incidents waiting on it back to support (in this same transaction)."""
    from webhooks.models import Event
    from webhooks.payloads import card_payload
    from webhooks.services import webhook_emit

    webhook_emit(Event.CARD_MOVED, card_payload(card), at=at)
    if column.category == ColumnCategory.DONE and not was_done:
        webhook_emit(Event.CARD_DONE, card_payload(card), at=at)
        hooks.fire_card_done(card=card, actor=actor, at=at)


@transaction.atomic
def card_pull(
    *, card: Card, actor, override_reason: ReasonCode | None = None, override_note="", at=None
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


EDITABLE_FIELDS = ("title", "description", "type", "class_of_service", "assignee", "release", "due_date")
_MISSING = object()


@transaction.atomic
def card_update(*, card: Card, actor, sprint=_MISSING, estimate=_MISSING, reason="", **fields) -> Card:
    """Edit a card's fields. Sprint and estimate changes go through the sprint services,
    which log scope changes; pass only what changes."""

    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed here."] for name in unknown})
    card = Card.objects.select_for_update().get(pk=card.pk)
    errors = {}
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
def card_block(*, card: Card, reason: ReasonCode, actor, note="", at=None) -> Card:
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
def card_unblock(*, card: Card, actor, at=None) -> Card:
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
def card_link_incident(*, card: Card, incident, actor, at=None) -> CardIncident:
    link, _ = CardIncident.objects.get_or_create(
        card=card, incident=incident, defaults={"created_at": at or timezone.now(), "created_by": actor}
    )
    return link


# ------------------------------------------------------------------ releases & reasons
@transaction.atomic
def release_create(*, board: Board, name, actor, planned_for=None) -> Release:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["A release needs a name."]})
    if Release.objects.filter(board=board, name=name).exists():
        raise ValidationError({"name": ["This board already has a release with that name."]})
    return Release.objects.create(board=board, name=name, planned_for=planned_for)


@transaction.atomic
def release_update(*, release: Release, actor, name, planned_for=None) -> Release:
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
def release_mark_deployed(*, release: Release, actor, at=None) -> Release:
    release = Release.objects.select_for_update().get(pk=release.pk)
    if release.deployed_at is not None:
        raise TransitionNotAllowed(f"{release.name} was already deployed.")
    release.deployed_at = at or timezone.now()
    release.save(update_fields=["deployed_at"])
    hooks.fire_release_deployed(release=release, actor=actor, at=release.deployed_at)
    return release


@transaction.atomic
def card_cancel(*, card: Card, actor, reason="", at=None) -> Card:
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


def reason_code_ensure(*, kind, code, label) -> ReasonCode:
    reason, _ = ReasonCode.objects.get_or_create(kind=kind, code=code, defaults={"label": label})
    return reason
