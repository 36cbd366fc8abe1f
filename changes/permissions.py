"""Who may ask for, triage and read change requests. The browser views and the API ask
these same predicates."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounts.roles import Role, has_role, is_staff_member

User = AbstractBaseUser | AnonymousUser


def can_submit_change(user: User) -> bool:
    """Anyone on staff may ask for a change: support, developers, product owners, managers."""
    return is_staff_member(user)


def can_triage(user: User) -> bool:
    return has_role(user, Role.PRODUCT_OWNER, Role.MANAGER)


def can_read_changes(user: User) -> bool:
    return is_staff_member(user)
