"""Every write on boards, one module per job:

- `layout`: boards, their columns (with WIP limits) and lanes; reason codes
- `cards`: create, edit, block, unblock, cancel a card; link incidents to it
- `moves`: the one move service (`card_move`) every entry point uses, and the pull
- `wip`: the column and lane WIP checks and the override reason every placement asks
- `ranking`: the rank arithmetic of the board's cells and the sprints' backlog
- `releases`: planning releases and recording their deployment

Callers import from `boards.services`; the names below are its public surface.
"""

from .cards import (
    CATEGORY_ORDER,
    EDITABLE_FIELDS,
    card_block,
    card_cancel,
    card_create,
    card_link_incident,
    card_unblock,
    card_update,
    is_expedite,
)
from .layout import (
    board_create,
    board_update,
    column_add,
    column_update,
    lane_add,
    lane_update,
    reason_code_ensure,
)
from .moves import card_move, card_pull
from .ranking import RANK_GAP
from .releases import release_create, release_mark_deployed, release_update

__all__ = [
    "CATEGORY_ORDER",
    "EDITABLE_FIELDS",
    "RANK_GAP",
    "board_create",
    "board_update",
    "card_block",
    "card_cancel",
    "card_create",
    "card_link_incident",
    "card_move",
    "card_pull",
    "card_unblock",
    "card_update",
    "column_add",
    "column_update",
    "is_expedite",
    "lane_add",
    "lane_update",
    "reason_code_ensure",
    "release_create",
    "release_mark_deployed",
    "release_update",
]
