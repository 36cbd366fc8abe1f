"""Every write on sprints, one module per job:

- `scope`: a card joining, leaving or re-estimated in a sprint (the only writers, so the
  scope-change log cannot be bypassed), the planning page's moves and the backlog order;
- `lifecycle`: creating, editing, starting and closing a sprint (carry-over, velocity);
- `previews`: what a start or close would do and its risks (confirmation);
- `availability`: a member's availability in a sprint;
- `rotation`: a development team's support rotation and delivery settings.

Callers import from `sprints.services`; the names below are the public surface.
Lock order, everywhere: cards (in pk order), then sprints (in pk order).
"""

from .availability import sprint_member_update
from .common import ALLOWED_TRANSITIONS, DEFAULT_FOCUS_FACTOR, DEFAULT_HOURS_PER_DAY, Actor
from .lifecycle import sprint_close, sprint_create, sprint_start, sprint_update
from .previews import (
    ConfirmationRequired,
    SprintClosePreview,
    SprintStartPreview,
    sprint_close_preview,
    sprint_start_preview,
)
from .rotation import (
    TEAM_SETTING_FIELDS,
    RotationRow,
    rotation_order,
    support_rotation_forecast,
    team_rotation_set,
    team_settings_update,
)
from .scope import (
    card_estimate_set,
    card_plan,
    card_rank_board_edge,
    card_sprint_set,
    cards_rank_top,
    cards_rerank,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "DEFAULT_FOCUS_FACTOR",
    "DEFAULT_HOURS_PER_DAY",
    "TEAM_SETTING_FIELDS",
    "Actor",
    "ConfirmationRequired",
    "RotationRow",
    "SprintClosePreview",
    "SprintStartPreview",
    "card_estimate_set",
    "card_plan",
    "card_rank_board_edge",
    "card_sprint_set",
    "cards_rank_top",
    "cards_rerank",
    "rotation_order",
    "sprint_close",
    "sprint_close_preview",
    "sprint_create",
    "sprint_member_update",
    "sprint_start",
    "sprint_start_preview",
    "sprint_update",
    "support_rotation_forecast",
    "team_rotation_set",
    "team_settings_update",
]
