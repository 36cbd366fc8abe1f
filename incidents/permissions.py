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


def is_support_owner(user, incident) -> bool:
    """The incident's assignee or a member of its team (see the module docstring)."""
    if not user.is_authenticated:
        return False
    return incident.assignee_id == user.pk or user.pk in _member_ids(incident.team)


def is_involved(user, incident) -> bool:
    """The support owner, or a swarm participant."""
    return is_support_owner(user, incident) or (
        user.is_authenticated and user.pk in _participant_ids(incident)
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
