"""The WIP limits a card entering a column or a lane is held to, and the override reason
that lets it through anyway. Every card placement (create, move, pull) asks these."""

from django.core.exceptions import ValidationError

from tracker.exceptions import WipLimitExceeded

from ..models import Card, Column, ColumnCategory, Lane, ReasonCode, ReasonKind


def check_column_wip(
    *, column: Column, card_id: int | None, override_reason: ReasonCode | None
) -> ReasonCode | None:
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


def check_lane_wip(
    *, lane_id: int | None, column: Column, card_id: int | None, override_reason: ReasonCode | None
) -> ReasonCode | None:
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


def validate_override_reason(reason: object, note: str = "") -> ReasonCode | None:
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
