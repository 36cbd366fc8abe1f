"""Who may configure mailboxes and read the mail log: managers (and admins)."""

from accounts.roles import Role, has_role


def can_manage_mail(user) -> bool:
    return has_role(user, Role.MANAGER)
