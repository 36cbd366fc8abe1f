"""SLA writes, one module per job:

- `timers`: the clocks follow the incident lifecycle (the `sla_on_*` hook subscribers);
- `events`: a fired warning or breach is recorded (event, history, webhook) and queued;
- `sweep`: fires warnings and breaches whose instant has passed, exactly once;
- `actions`: what a fired event does (notifications, breach escalation and declaration);
- `calendars`, `policies`: the settings, validated and audited;
- `retarget`: recomputing the clocks a policy runs after an edit.

Callers import from here (`from sla.services import policy_update`); the names below are
the public ones.
"""

from .actions import MOVED_ON_EVENTS, breach_action_fresh_window, sla_event_handle
from .calendars import CALENDAR_FIELDS, calendar_create, calendar_delete, calendar_update, clean_calendar
from .policies import POLICY_FIELDS, clean_policy, policy_create, policy_delete, policy_update
from .retarget import RETARGET_FIELDS, RETARGET_LEASE, policies_awaiting_retarget, policy_retarget
from .sweep import requeue_unhandled_events, sla_sweep_tick, sweep_candidates
from .timers import (
    HOLD_CAUSE,
    HOLD_REASONS,
    sla_on_incident_changed,
    sla_on_incident_created,
    sla_on_incident_inserting,
    sla_on_public_reply,
)

__all__ = [
    "CALENDAR_FIELDS",
    "HOLD_CAUSE",
    "HOLD_REASONS",
    "MOVED_ON_EVENTS",
    "POLICY_FIELDS",
    "RETARGET_FIELDS",
    "RETARGET_LEASE",
    "breach_action_fresh_window",
    "calendar_create",
    "calendar_delete",
    "calendar_update",
    "clean_calendar",
    "clean_policy",
    "policies_awaiting_retarget",
    "policy_create",
    "policy_delete",
    "policy_retarget",
    "policy_update",
    "requeue_unhandled_events",
    "sla_event_handle",
    "sla_on_incident_changed",
    "sla_on_incident_created",
    "sla_on_incident_inserting",
    "sla_on_public_reply",
    "sla_sweep_tick",
    "sweep_candidates",
]
