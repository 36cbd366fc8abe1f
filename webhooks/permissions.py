from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounts.roles import Role, has_role


def can_manage_webhooks(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Integrations are configured by managers and admins."""
    return has_role(user, Role.MANAGER)
