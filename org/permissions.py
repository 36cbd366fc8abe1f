"""Who may maintain what in the organisation."""

from typing import Any

from accounts.roles import Role, has_role, is_staff_member

# People who talk to customers keep their contacts; the same roles that log incidents.
CONTACT_EDITORS = (Role.SERVICE_DESK, Role.SUPPORT_ENGINEER, Role.DEVELOPER, Role.MANAGER)


def can_view_contacts(user: Any) -> bool:
    return is_staff_member(user)


def can_manage_contacts(user: Any) -> bool:
    return has_role(user, *CONTACT_EDITORS)


def can_manage_organisation(user: Any) -> bool:
    return has_role(user, Role.MANAGER)
