"""Every write to an incident goes through here: browser, API, admin, demo and tasks alike.

One module per job; this package re-exports the public names, so callers keep importing
from `incidents.services` (a test that replaces a collaborator patches the module that
calls it, e.g. `incidents.services.assignment.enqueue_on_commit`):

- base: the row lock, applying field changes with their history, shared types
- creation: logging an incident and the support group it starts with
- lifecycle: the status transitions (ALLOWED_TRANSITIONS) and the scheduled close
- fields: descriptive fields and priority (the ITIL matrix, a manager's override)
- assignment: assignment, taking, functional escalation, tier, major incidents, swarming
- conversation: replies, notes, customers' messages, mail delivery state, time entries
- links: duplicates merged into a parent, the card or release that caused an incident
"""

from ..models import OPEN_STATUSES
from .assignment import (
    incident_assign,
    incident_declare_major,
    incident_escalate,
    incident_set_tier,
    incident_swarm_join,
    incident_swarm_leave,
    incident_take,
    next_tier_team,
)
from .base import SLA_FIELDS, Actor, Errors, incident_lock, record_noun
from .conversation import MAX_MINUTES_PER_ENTRY, comment_set_delivery, incident_comment, incident_log_time
from .creation import first_team_for, incident_create
from .fields import EDITABLE_FIELDS, PRIORITY_MATRIX, incident_set_priority, incident_update, priority_for
from .lifecycle import ALLOWED_TRANSITIONS, allowed_next_statuses, incident_auto_close, incident_transition
from .links import incident_link_cause, incident_merge_duplicate

__all__ = [
    "ALLOWED_TRANSITIONS",
    "EDITABLE_FIELDS",
    "MAX_MINUTES_PER_ENTRY",
    "OPEN_STATUSES",
    "PRIORITY_MATRIX",
    "SLA_FIELDS",
    "Actor",
    "Errors",
    "allowed_next_statuses",
    "comment_set_delivery",
    "first_team_for",
    "incident_assign",
    "incident_auto_close",
    "incident_comment",
    "incident_create",
    "incident_declare_major",
    "incident_escalate",
    "incident_link_cause",
    "incident_lock",
    "incident_log_time",
    "incident_merge_duplicate",
    "incident_set_priority",
    "incident_set_tier",
    "incident_swarm_join",
    "incident_swarm_leave",
    "incident_take",
    "incident_transition",
    "incident_update",
    "next_tier_team",
    "priority_for",
    "record_noun",
]
