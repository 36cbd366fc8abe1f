from accounts.roles import Role, has_role


def can_escalate_to_development(user, incident=None) -> bool:
    """Tier 2 and 3 (support engineers, developers) and managers hand incidents to development."""
    return has_role(user, Role.SUPPORT_ENGINEER, Role.DEVELOPER, Role.MANAGER)
