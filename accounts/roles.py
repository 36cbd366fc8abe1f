"""Roles are Django groups with the fixed names of the API contract.

Permission predicates in every app ask `has_role`; superusers hold every role.
"""

from django.db import models


class Role(models.TextChoices):
    SERVICE_DESK = "service_desk", "Service desk (tier 1)"
    SUPPORT_ENGINEER = "support_engineer", "Support engineer (tier 2)"
    DEVELOPER = "developer", "Developer (tier 3)"
    PRODUCT_OWNER = "product_owner", "Product owner"
    MANAGER = "manager", "Manager"


STAFF_ROLES = tuple(Role.values)


def role_names(user) -> set[str]:
    """The user's role names, read once per request and cached on the user object."""
    if user is None or not user.is_authenticated:
        return set()
    cached = getattr(user, "_tandem_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=STAFF_ROLES).values_list("name", flat=True))
        user._tandem_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(role_names(user) & set(roles))


def is_staff_member(user) -> bool:
    """Anyone with at least one role may read incidents, boards and sprints."""
    return has_role(user, *STAFF_ROLES)


def role_labels(user) -> list[str]:
    if user.is_superuser:
        return ["Admin"]
    names = role_names(user)
    return [label for value, label in Role.choices if value in names]
