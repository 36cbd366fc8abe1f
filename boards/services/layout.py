"""A board's layout: creating and editing boards, their columns (workflow steps, with WIP
limits) and swim lanes, and the reason codes cards are blocked or moved over a limit with.

Every layout change locks the board's or the record's row and writes its audit row.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_created, audit_snapshot, audit_updated

from ..models import Board, Column, ColumnCategory, Lane, LaneKind, ReasonCode

if TYPE_CHECKING:
    from org.models import Team

    from ..hooks import Actor


class _Unset(enum.Enum):
    """A WIP limit left out of an update (None means "no limit")."""

    UNSET = enum.auto()


_UNSET = _Unset.UNSET


def _wip_errors(label: str, wip_min: object, wip_max: object) -> dict[str, list[str]]:
    """Field -> messages for a pair of WIP limits (min above max is the minimum's error)."""
    errors: dict[str, list[str]] = {}
    for name, value in (("wip_min", wip_min), ("wip_max", wip_max)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            errors[name] = [f"{label}: {name} must be a whole number ≥ 0."]
    # No errors: each limit is None or a whole number.
    if not errors and isinstance(wip_min, int) and isinstance(wip_max, int) and wip_min > wip_max:
        errors["wip_min"] = [f"{label}: wip_min cannot exceed wip_max."]
    return errors


@transaction.atomic
def board_create(
    *,
    name: str,
    actor: Actor,
    teams: Iterable[Team] = (),
    columns: Sequence[Mapping[str, Any]] = (),
    lanes: Sequence[Mapping[str, Any]] = (),
    key_prefix: str = "DEV",
) -> Board:
    """Create a board with its columns and lanes, in the order given.

    `columns`: dicts {name, category, wip_min?, wip_max?}; `lanes`: dicts {name, kind, wip_max?}.
    """
    errors: dict[str, list[str]] = {}
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
def board_update(
    *, board: Board, actor: Actor, name: str | None = None, teams: Iterable[Team] | None = None
) -> Board:
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
def column_update(
    *,
    column: Column,
    actor: Actor,
    name: str | None = None,
    wip_min: int | None | _Unset = _UNSET,
    wip_max: int | None | _Unset = _UNSET,
) -> Column:
    """Rename a column or change its WIP limits (None: no limit). A maximum below the cards
    already there is allowed: the column shows over its limit and takes no more."""
    column = Column.objects.select_for_update(no_key=True).get(pk=column.pk)
    before = audit_snapshot(column)
    new_min = column.wip_min if wip_min is _UNSET else wip_min
    new_max = column.wip_max if wip_max is _UNSET else wip_max
    errors: dict[str, list[str]] = {}
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
def column_add(
    *,
    board: Board,
    actor: Actor,
    name: str,
    category: str,
    wip_min: int | None = None,
    wip_max: int | None = None,
    position: int | None = None,
) -> Column:
    """Add a workflow step at index `position` of the board's columns (None: at the end)."""
    errors: dict[str, list[str]] = {}
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
def lane_add(
    *, board: Board, actor: Actor, name: str, kind: str = LaneKind.STANDARD, wip_max: int | None = None
) -> Lane:
    """Add a swim lane at the bottom of the board."""
    errors: dict[str, list[str]] = {}
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
def lane_update(
    *, lane: Lane, actor: Actor, name: str | None = None, wip_max: int | None | _Unset = _UNSET
) -> Lane:
    """Rename a lane or change its WIP limit: how many of its cards may be in progress at
    once across the board (the expedite lane's limit, usually 1)."""
    lane = Lane.objects.select_for_update(no_key=True).get(pk=lane.pk)
    before = audit_snapshot(lane)
    new_max = lane.wip_max if wip_max is _UNSET else wip_max
    errors: dict[str, list[str]] = {}
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


def reason_code_ensure(*, kind: str, code: str, label: str) -> ReasonCode:
    reason, _ = ReasonCode.objects.get_or_create(kind=kind, code=code, defaults={"label": label})
    return reason
