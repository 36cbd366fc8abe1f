"""Who may hand an incident to development. The escalate page, its preview, the incident
page's development panel and the API all ask `can_escalate_to_development`."""

from accounts.roles import Role, has_role
from incidents.models import Incident
from incidents.permissions import Viewer, can_escalate, can_view_incidents

ESCALATOR_ROLES = (Role.SUPPORT_ENGINEER, Role.DEVELOPER, Role.MANAGER)


def can_escalate_to_development(user: Viewer, incident: Incident) -> bool:
    """The same rights over the incident as a functional escalation (its support owner, a
    swarm participant or a manager — incidents.permissions.can_escalate), held by tier 2 or 3
    (support engineers, developers) or a manager: the service desk escalates to tier 2."""
    return has_role(user, *ESCALATOR_ROLES) and can_escalate(user, incident)


def can_view_development_panel(user: Viewer, incident: Incident) -> bool:
    """The panel shows the card's live state to whoever may read the incident."""
    return can_view_incidents(user)
