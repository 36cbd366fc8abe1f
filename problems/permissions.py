"""Who may do what to a problem. The browser pages, the API, the admin and the desk's bulk
actions ask these same predicates.

- Every member of staff reads problems and known errors.
- Whoever logs and works incidents (service desk, support engineers, developers, managers)
  opens a problem and links incidents to it: the desk recognises the pattern first.
- Investigating it (root cause, workaround, status, owner) is for problem work: support
  engineers, developers and managers, and the problem's owner whatever their role.
- Escalating it to development is for the roles that escalate incidents to development
  (tier 2, tier 3, managers: escalation.permissions.ESCALATOR_ROLES).
- The manager view (top problems) is for managers.
"""

from __future__ import annotations

from accounts.roles import Role, has_role, is_staff_member
from escalation.permissions import ESCALATOR_ROLES
from incidents.permissions import SUPPORT_ROLES, Viewer

from .models import Problem

PROBLEM_WORKER_ROLES = (Role.SUPPORT_ENGINEER, Role.DEVELOPER, Role.MANAGER)


def can_view_problems(user: Viewer) -> bool:
    return is_staff_member(user)


def can_create_problem(user: Viewer) -> bool:
    return has_role(user, *SUPPORT_ROLES)


def can_link(user: Viewer, problem: Problem) -> bool:
    """Group incidents under the problem (or take one out)."""
    return has_role(user, *SUPPORT_ROLES)


def _is_owner(user: Viewer, problem: Problem) -> bool:
    return user.is_authenticated and problem.owner_id is not None and problem.owner_id == user.pk


def can_edit_problem(user: Viewer, problem: Problem) -> bool:
    """Root cause, workaround, owner, description, status."""
    return has_role(user, *PROBLEM_WORKER_ROLES) or (is_staff_member(user) and _is_owner(user, problem))


def can_transition_problem(user: Viewer, problem: Problem) -> bool:
    return can_edit_problem(user, problem)


def can_resolve_incidents(user: Viewer, problem: Problem) -> bool:
    """Offer "resolve its incidents together"; each incident is still checked on its own
    (incidents.permissions.can_transition) by problem_resolve_incidents."""
    return can_edit_problem(user, problem)


def can_escalate_problem(user: Viewer, problem: Problem) -> bool:
    return has_role(user, *ESCALATOR_ROLES)


def can_view_problem_report(user: Viewer) -> bool:
    return has_role(user, Role.MANAGER)
