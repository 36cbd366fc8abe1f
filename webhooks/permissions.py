from accounts.roles import Role, has_role


def can_manage_webhooks(user) -> bool:
    """Integrations are configured by managers and admins."""
    return has_role(user, Role.MANAGER)
