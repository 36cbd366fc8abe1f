"""Who may do what to an incident. The browser and the API both ask these predicates, one per
action (the incident page offers an action only when its predicate says yes).

Reading is open to all staff. Work on an incident (transitions, hold, resolve, assignment,
escalation, links) belongs to its *support owner*, its swarm participants and managers.
Priority overrides and major-incident declarations are for managers only.

The support owner of an incident is

- its assignee, and
- the members of its team, the support group that holds the case.

Escalating to development (SPEC §7) does not change either: the incident goes to tier 3 and
development works a card, but its team stays the support group and its assignee stays, so
the support owner keeps every action — reply, note, change the hold, link, resolve — while
the card is worked. Only a functional escalation (or de-escalation, transfer) hands the case
to another group; its members are then the support owner, and the assignee stays only if
they belong to the new group. Developers may reply, add notes and log time on any incident;
acting on an escalated incident's status is support's.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounts.roles import Role, has_role, is_staff_member
from org.models import Team

from .models import Incident

# Whoever asks: a signed-in user, or the anonymous one (who may do nothing).
Viewer = AbstractBaseUser | AnonymousUser

SUPPORT_ROLES = (Role.SERVICE_DESK, Role.SUPPORT_ENGINEER, Role.DEVELOPER, Role.MANAGER)
WORKER_ROLES = (Role.SERVICE_DESK, Role.SUPPORT_ENGINEER, Role.DEVELOPER)


def _is_manager(user: Viewer) -> bool:
    return has_role(user, Role.MANAGER)


def _member_ids(team: Team) -> set[int]:
    """Team member ids, read once per team object (pages ask several predicates)."""
    cached = getattr(team, "_member_ids", None)
    if cached is None:
        cached = set(team.members.values_list("pk", flat=True))
        team._member_ids = cached  # type: ignore[attr-defined]  # a per-object cache, not a field
    return cached


def _participant_ids(incident: Incident) -> set[int]:
    cached = getattr(incident, "_participant_ids", None)
    if cached is None:
        cached = {u.pk for u in incident.participants.all()}
        incident._participant_ids = cached  # type: ignore[attr-defined]  # a per-object cache, not a field
    return cached


def is_support_owner(user: Viewer, incident: Incident) -> bool:
    """The incident's assignee or a member of its team (see the module docstring)."""
    if not user.is_authenticated:
        return False
    return incident.assignee_id == user.pk or user.pk in _member_ids(incident.team)


def is_involved(user: Viewer, incident: Incident) -> bool:
    """The support owner, or a swarm participant."""
    return is_support_owner(user, incident) or (
        user.is_authenticated and user.pk in _participant_ids(incident)
    )


def can_view_incidents(user: Viewer) -> bool:
    return is_staff_member(user)


def can_create_incident(user: Viewer) -> bool:
    return has_role(user, *SUPPORT_ROLES)


def can_comment(user: Viewer, incident: Incident) -> bool:
    return has_role(user, *SUPPORT_ROLES)


def can_log_time(user: Viewer, incident: Incident) -> bool:
    return has_role(user, *SUPPORT_ROLES)


def can_work(user: Viewer, incident: Incident) -> bool:
    """Transitions, edits, assignment, links: the people working the incident, and managers."""
    if _is_manager(user):
        return True
    return has_role(user, *WORKER_ROLES) and is_involved(user, incident)


def can_transition(user: Viewer, incident: Incident) -> bool:
    return can_work(user, incident)


def can_take(user: Viewer, incident: Incident) -> bool:
    return incident.is_open and can_work(user, incident)


def can_assign(user: Viewer, incident: Incident) -> bool:
    return can_work(user, incident)


def can_update(user: Viewer, incident: Incident) -> bool:
    return can_work(user, incident)


def can_escalate(user: Viewer, incident: Incident) -> bool:
    return can_work(user, incident)


def can_link(user: Viewer, incident: Incident) -> bool:
    return can_work(user, incident)


def can_merge(user: Viewer, incident: Incident) -> bool:
    return can_work(user, incident)


def can_join_swarm(user: Viewer, incident: Incident) -> bool:
    """Members of any tier join a swarm; no team membership needed."""
    return has_role(user, *SUPPORT_ROLES)


def can_override_priority(user: Viewer, incident: Incident) -> bool:
    return _is_manager(user)


def can_declare_major(user: Viewer, incident: Incident) -> bool:
    return _is_manager(user)
