from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounts.roles import Role, has_role


def can_read_audit_log(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Managers (and admins) read and export the configuration audit log."""
    return has_role(user, Role.MANAGER)
