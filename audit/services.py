"""Writing the configuration audit log.

A configuration service takes a snapshot before it changes a record and hands it back
afterwards; the difference becomes one `AuditEntry` in the service's own transaction:

    before = audit_snapshot(policy)
    ...change and save policy...
    audit_updated(actor=actor, instance=policy, before=before)

Why a small module and not a library: the trigger-based ones (django-pghistory) need
PostgreSQL, while Tandem's embedded default runs on SQLite, and they learn the actor
from request middleware, which misses the admin's and Celery's writes made through the
services; the model-save-based ones (django-simple-history, django-auditlog) record every
save, including the sweep's and the ranking's, and hide the write in a signal. Here the
service that owns the rule owns its audit row — one row per change, with its caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models, transaction
from django.utils import timezone

from .models import AuditAction, AuditEntry
from .names import public_name

# Values never written to the log: only the fact that they changed.
SECRET_FIELDS = frozenset({"secret", "password", "imap_password", "token"})
# Bookkeeping columns that change on every save and say nothing about the configuration.
IGNORED_FIELDS = frozenset({"updated_at", "modified_at"})
REDACTED = "[changed]"

Snapshot = dict[str, Any]
Changes = dict[str, list[Any]]


def _plain(value: Any) -> Any:
    """A JSON-friendly, comparable form of a field value."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral() else str(value.normalize())
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _fields(instance: models.Model, names: Iterable[str] | None) -> list[models.Field[Any, Any]]:
    opts = instance._meta
    if names is not None:
        found = [opts.get_field(name) for name in names]
        return [f for f in found if isinstance(f, models.Field)]
    concrete = [f for f in opts.concrete_fields if not f.primary_key and f.name not in IGNORED_FIELDS]
    return [*concrete, *opts.many_to_many]


def audit_snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> Snapshot:
    """The audited values of `instance` now: its own columns and its many-to-many ids."""
    values: Snapshot = {}
    for field in _fields(instance, fields):
        if field.many_to_many:
            if instance.pk is None:
                values[field.name] = []
            else:
                values[field.name] = sorted(getattr(instance, field.name).values_list("pk", flat=True))
        else:
            values[field.name] = _plain(getattr(instance, field.attname))
    return values


def audit_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> Changes:
    changes: Changes = {}
    for name in sorted(set(before) | set(after)):
        old, new = _plain(before.get(name)), _plain(after.get(name))
        if old != new:
            changes[name] = [REDACTED, REDACTED] if name in SECRET_FIELDS else [old, new]
    return changes


def _actor_id(actor: AbstractBaseUser | AnonymousUser | None) -> int | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return actor.pk


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    model: str,
    object_id: Any,
    action: str,
    changes: Changes,
    object_repr: str = "",
    at: datetime | None = None,
) -> AuditEntry:
    """One row; callers inside a service transaction commit it with the change."""
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    return AuditEntry.objects.create(
        at=at or timezone.now(),
        actor_id=_actor_id(actor),
        model=model,
        object_id=str(object_id),
        object_repr=object_repr[:200],
        action=action,
        changes=changes,
    )


def _name(instance: models.Model) -> str:
    return public_name(instance._meta.label_lower)


@transaction.atomic
def audit_created(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    instance: models.Model,
    fields: Iterable[str] | None = None,
    extra: Changes | None = None,
) -> AuditEntry:
    after = audit_snapshot(instance, fields)
    changes = audit_diff({}, after)
    changes.update(_plain(extra or {}))
    return audit_record(
        actor=actor,
        model=_name(instance),
        object_id=instance.pk,
        action=AuditAction.CREATED,
        changes=changes,
        object_repr=str(instance),
    )


@transaction.atomic
def audit_updated(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    instance: models.Model,
    before: Snapshot,
    extra: Changes | None = None,
) -> AuditEntry | None:
    """The row for what changed since `before`; nothing when nothing changed."""
    changes = audit_diff(before, audit_snapshot(instance, before.keys()))
    changes.update(_plain(extra or {}))
    if not changes:
        return None
    return audit_record(
        actor=actor,
        model=_name(instance),
        object_id=instance.pk,
        action=AuditAction.UPDATED,
        changes=changes,
        object_repr=str(instance),
    )


@transaction.atomic
def audit_deleted(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    instance: models.Model,
    before: Snapshot | None = None,
    object_id: Any = None,
) -> AuditEntry:
    """Call before the delete (or pass the snapshot and id taken before it)."""
    before = before if before is not None else audit_snapshot(instance)
    return audit_record(
        actor=actor,
        model=_name(instance),
        object_id=object_id if object_id is not None else instance.pk,
        action=AuditAction.DELETED,
        changes=audit_diff(before, {}),
        object_repr=str(instance),
    )
