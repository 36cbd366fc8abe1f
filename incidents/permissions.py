"""Who may do what to an incident. The browser and the API both ask these predicates.

Reading is open to all staff. Work on an incident (transitions, assignment, escalation,
links) belongs to its team, its assignee and swarm participants; managers may always act.
Priority overrides and major-incident declarations are for managers only.
"""

from accounts.roles import Role, has_role, is_staff_member

from .models import Incident

SUPPORT_ROLES = (Role.SERVICE_DESK, Role.SUPPORT_ENGINEER, Role.DEVELOPER, Role.MANAGER)
WORKER_ROLES = (Role.SERVICE_DESK, Role.SUPPORT_ENGINEER, Role.DEVELOPER)


def _is_manager(user) -> bool:
    return has_role(user, Role.MANAGER)


def _member_ids(team) -> set[int]:
    """Team member ids, read once per team object (pages ask several predicates)."""
    cached = getattr(team, "_member_ids", None)
    if cached is None:
        cached = set(team.members.values_list("pk", flat=True))
        team._member_ids = cached
    return cached


def _participant_ids(incident) -> set[int]:
    cached = getattr(incident, "_participant_ids", None)
    if cached is None:
        cached = {u.pk for u in incident.participants.all()}
        incident._participant_ids = cached
    return cached


def is_involved(user, incident) -> bool:
    """Assignee, member of the incident's team, or swarm participant."""
    if not user.is_authenticated:
        return False
    return (
        incident.assignee_id == user.pk
        or user.pk in _member_ids(incident.team)
        or user.pk in _participant_ids(incident)
    )


def can_view_incidents(user) -> bool:
    return is_staff_member(user)


def can_create_incident(user) -> bool:
    return has_role(user, *SUPPORT_ROLES)


def can_comment(user, incident: Incident) -> bool:
    return has_role(user, *SUPPORT_ROLES)


def can_log_time(user, incident: Incident) -> bool:
    return has_role(user, *SUPPORT_ROLES)


def can_work(user, incident: Incident) -> bool:
    """Transitions, edits, assignment, links: the people working the incident, and managers."""
    if _is_manager(user):
        return True
    return has_role(user, *WORKER_ROLES) and is_involved(user, incident)


def can_transition(user, incident: Incident) -> bool:
    return can_work(user, incident)


def can_take(user, incident: Incident) -> bool:
    return incident.is_open and can_work(user, incident)


def can_assign(user, incident: Incident) -> bool:
    return can_work(user, incident)


def can_update(user, incident: Incident) -> bool:
    return can_work(user, incident)


def can_escalate(user, incident: Incident) -> bool:
    return can_work(user, incident)


def can_link(user, incident: Incident) -> bool:
    return can_work(user, incident)


def can_merge(user, incident: Incident) -> bool:
    return can_work(user, incident)


def can_join_swarm(user, incident: Incident) -> bool:
    """Members of any tier join a swarm; no team membership needed."""
    return has_role(user, *SUPPORT_ROLES)


def can_override_priority(user, incident: Incident) -> bool:
    return _is_manager(user)


def can_declare_major(user, incident: Incident) -> bool:
    return _is_manager(user)
