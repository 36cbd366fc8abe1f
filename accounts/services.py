"""Writes on users' access: roles (the Django groups of the contract) and the admin flags.

Who may do what is configuration (SPEC §16): each change of a user's roles, or of their
active/staff/superuser flags, leaves one audit row naming who changed it, in the same
transaction, whether it came from the Django admin or from code (`user_roles_set`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import AuditEntry
from audit.services import audit_diff, audit_record

from .models import User
from .roles import STAFF_ROLES

ACCESS_FLAGS = ("is_active", "is_staff", "is_superuser")
AUDIT_NAME = "accounts.user"


def user_access_snapshot(user: User) -> dict[str, Any]:
    """The user's access as stored now: role names and the admin flags."""
    if user.pk is None:
        return {"roles": [], **dict.fromkeys(ACCESS_FLAGS)}
    stored = User.objects.filter(pk=user.pk).values(*ACCESS_FLAGS).first() or {}
    roles = sorted(user.groups.filter(name__in=STAFF_ROLES).values_list("name", flat=True))
    return {"roles": roles, **{flag: stored.get(flag) for flag in ACCESS_FLAGS}}


@transaction.atomic
def user_access_record(
    *,
    user: User,
    actor: AbstractBaseUser | AnonymousUser | None,
    before: dict[str, Any],
    created: bool = False,
) -> AuditEntry | None:
    """One audit row for what changed in `user`'s access since `before` (none if nothing)."""
    after = user_access_snapshot(user)
    if created:
        before = {}
    changes = audit_diff(before, after)
    if not changes:
        return None
    user.__dict__.pop("_tandem_roles", None)  # the per-request role cache is stale now
    return audit_record(
        actor=actor,
        model=AUDIT_NAME,
        object_id=user.pk,
        action="created" if created else "updated",
        changes=changes,
        object_repr=user.get_username(),
    )


@transaction.atomic
def user_roles_set(
    *, user: User, roles: Iterable[str], actor: AbstractBaseUser | AnonymousUser | None
) -> User:
    """Give `user` exactly these roles (contract group names); other groups are kept."""
    wanted = set(roles)
    unknown = wanted - set(STAFF_ROLES)
    if unknown:
        raise ValidationError({"roles": [f"Unknown role: {', '.join(sorted(unknown))}."]})
    User.objects.select_for_update().filter(pk=user.pk).first()
    before = user_access_snapshot(user)
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in STAFF_ROLES}
    user.groups.remove(*(groups[name] for name in STAFF_ROLES if name not in wanted))
    user.groups.add(*(groups[name] for name in wanted))
    user_access_record(user=user, actor=actor, before=before)
    return user
