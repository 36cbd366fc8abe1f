from accounts.roles import Role, has_role, is_staff_member


def can_submit_change(user) -> bool:
    """Anyone on staff may ask for a change: support, developers, product owners, managers."""
    return is_staff_member(user)


def can_triage(user) -> bool:
    return has_role(user, Role.PRODUCT_OWNER, Role.MANAGER)


def can_read_changes(user) -> bool:
    return is_staff_member(user)
