"""Roles are Django groups with the fixed names of the API contract.

Permission predicates in every app ask `has_role`; superusers hold every role.
"""

from typing import Any

from django.db import connection, models
from django.db.models import OuterRef


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


def with_role_names(qs: Any, user_path: str = "pk") -> Any:
    """`qs` (of users, or of rows with a user at `user_path`) annotated with the user's role
    names as `tandem_role_names` on PostgreSQL: the request's user and its roles in one
    query instead of two (remember_role_names puts them where role_names looks). Other
    databases: `qs` unchanged, the roles read on first use."""
    if connection.vendor != "postgresql":
        return qs
    from django.contrib.auth.models import Group
    from django.contrib.postgres.expressions import ArraySubquery

    names = Group.objects.filter(user=OuterRef(user_path), name__in=STAFF_ROLES).values("name")
    return qs.annotate(tandem_role_names=ArraySubquery(names))


def remember_role_names(user, row) -> None:
    """Cache on `user` the role names `row` was annotated with by with_role_names."""
    names = getattr(row, "tandem_role_names", None)
    if names is not None and user is not None:
        user._tandem_roles = set(names)


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
