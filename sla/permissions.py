"""Who may do what with SLA settings: one set of predicates for browser and API."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounts.roles import Role, has_role, is_staff_member


def can_view_sla_settings(user: AbstractBaseUser | AnonymousUser) -> bool:
    return is_staff_member(user)


def can_manage_sla(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Calendars and policies are maintained by managers (and admins)."""
    return has_role(user, Role.MANAGER)
