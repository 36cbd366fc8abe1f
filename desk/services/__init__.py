"""The desk's writes: saved views, and bulk actions that run the incidents services on each
selected incident."""

from .bulk import (
    ACTION_LABELS,
    ACTIONS,
    MAX_INCIDENTS,
    ActionSpec,
    BulkAction,
    BulkInput,
    BulkResult,
    Done,
    Refused,
    check_bulk_input,
    incidents_bulk_act,
)
from .saved_views import (
    QUERY_KEYS,
    UNSET,
    saved_view_create,
    saved_view_delete,
    saved_view_query,
    saved_view_update,
)

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "MAX_INCIDENTS",
    "QUERY_KEYS",
    "UNSET",
    "ActionSpec",
    "BulkAction",
    "BulkInput",
    "BulkResult",
    "Done",
    "Refused",
    "check_bulk_input",
    "incidents_bulk_act",
    "saved_view_create",
    "saved_view_delete",
    "saved_view_query",
    "saved_view_update",
]
