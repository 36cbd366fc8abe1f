"""Every write to a problem goes through here: browser, API, admin, the desk's bulk actions.

- lifecycle: problem_create, problem_update (EDITABLE_FIELDS), problem_transition
  (ALLOWED_TRANSITIONS; a problem with a workaround is a known error)
- links: problem_link_incidents (each incident in its own savepoint, a LinkResult back),
  problem_unlink_incident
- development: problem_escalate_to_development (one card for all the problem's incidents),
  its preview, and the back-sync subscribers of boards.hooks
- resolution: problem_resolve_incidents (each incident in its own transaction)

`create_problem` and `link_incidents` are the same functions under the names the desk's bulk
actions were told to expect.
"""

from .common import ALLOWED_TRANSITIONS, Actor, allowed_next_statuses, problem_lock
from .development import (
    ProblemEscalationResult,
    lead_priority,
    open_incidents_of,
    problem_escalate_to_development,
    problem_escalation_preview,
    problems_on_card_cancelled,
    problems_on_card_done,
    problems_on_release_deployed,
)
from .lifecycle import (
    EDITABLE_FIELDS,
    problem_create,
    problem_note_article,
    problem_transition,
    problem_update,
)
from .links import LinkResult, link_logged_incident, problem_link_incidents, problem_unlink_incident
from .resolution import RESOLUTION_CODES, ResolveOutcome, problem_resolve_incidents

create_problem = problem_create
link_incidents = problem_link_incidents

__all__ = [
    "ALLOWED_TRANSITIONS",
    "EDITABLE_FIELDS",
    "RESOLUTION_CODES",
    "Actor",
    "LinkResult",
    "ProblemEscalationResult",
    "ResolveOutcome",
    "allowed_next_statuses",
    "create_problem",
    "lead_priority",
    "link_incidents",
    "link_logged_incident",
    "open_incidents_of",
    "problem_create",
    "problem_escalate_to_development",
    "problem_escalation_preview",
    "problem_link_incidents",
    "problem_lock",
    "problem_note_article",
    "problem_resolve_incidents",
    "problem_transition",
    "problem_unlink_incident",
    "problem_update",
    "problems_on_card_cancelled",
    "problems_on_card_done",
    "problems_on_release_deployed",
]
