"""Who may configure mailboxes and read the mail log: managers (and admins)."""

from typing import Any

from accounts.roles import Role, has_role


def can_manage_mail(user: Any) -> bool:
    return has_role(user, Role.MANAGER)
