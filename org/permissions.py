"""Who may maintain what in the organisation."""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from accounts.roles import Role, has_role, is_staff_member

# People who talk to customers keep their contacts; the same roles that log incidents.
CONTACT_EDITORS = (Role.SERVICE_DESK, Role.SUPPORT_ENGINEER, Role.DEVELOPER, Role.MANAGER)


def can_view_contacts(user: Any) -> bool:
    return is_staff_member(user)


def can_manage_contacts(user: Any) -> bool:
    return has_role(user, *CONTACT_EDITORS)


def can_manage_organisation(user: Any) -> bool:
    return has_role(user, Role.MANAGER)


def portal_contact_of(user: Any) -> Any:
    """The contact whose portal account `user` is, or None (staff, anonymous).

    Read from the user row's join (portal.backends loads `portal_contact` with the user, and
    portal.authentication with the token), so asking costs no query on a request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.portal_contact
    except ObjectDoesNotExist:
        return None


def is_portal_account(user: Any) -> bool:
    return portal_contact_of(user) is not None
