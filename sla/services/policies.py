"""SLA policies: validated, audited, adopted by clocks waiting for a policy, and the
clocks they (and their neighbours of the same priority) run recomputed after an edit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_created, audit_deleted, audit_snapshot, audit_updated
from incidents.history import Actor
from incidents.models import Incident, IncidentType

from ..models import SLAPolicy, SLATimer, default_pause_on
from .retarget import RETARGET_FIELDS, lock_policies, request_retarget
from .timers import HOLD_REASONS, sla_on_incident_changed

POLICY_FIELDS = (
    "name",
    "priority",
    "service",
    "customer",
    "incident_type",
    "response_minutes",
    "resolution_minutes",
    "calendar",
    "warn_percent",
    "pause_on",
    "notify_on_breach",
    "escalate_on_breach",
    "declare_major_on_breach",
    "active",
)


def clean_policy(policy: SLAPolicy) -> None:
    errors: dict[str, list[str]] = {}
    try:
        policy.full_clean(exclude=["pause_on"])
    except ValidationError as exc:
        errors.update({k: list(v) for k, v in exc.message_dict.items()})
    pause_on = policy.pause_on if policy.pause_on is not None else []
    if not isinstance(pause_on, list) or any(r not in HOLD_REASONS for r in pause_on):
        errors["pause_on"] = [f"Choose hold reasons among: {', '.join(HOLD_REASONS)}."]
    else:
        policy.pause_on = [r for r in HOLD_REASONS if r in pause_on]
    if policy.warn_percent is not None and not 1 <= policy.warn_percent <= 100:
        errors.setdefault("warn_percent", []).append("Give a percentage between 1 and 100.")
    for field in ("response_minutes", "resolution_minutes"):
        value = getattr(policy, field)
        if value is not None and value < 1 and field not in errors:
            errors[field] = ["Give a target of at least one business minute."]
    if (
        policy.response_minutes
        and policy.resolution_minutes
        and policy.response_minutes > policy.resolution_minutes
        and "resolution_minutes" not in errors
    ):
        errors["resolution_minutes"] = ["The resolution target cannot be shorter than the response target."]
    if policy.incident_type and policy.incident_type not in IncidentType.values:
        errors["incident_type"] = [f"Choose {' or '.join(IncidentType.values)}, or leave empty for both."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def policy_create(*, actor: Actor = None, **data: Any) -> SLAPolicy:
    data.setdefault("pause_on", default_pause_on())
    policy = SLAPolicy(**{k: v for k, v in data.items() if k in POLICY_FIELDS})
    clean_policy(policy)
    policy.save()
    _adopt_policy(policy)
    # Clocks running under a less specific policy of that priority may match this one now.
    request_retarget(SLAPolicy.objects.filter(priority=policy.priority).exclude(pk=policy.pk))
    audit_created(actor=actor, instance=policy, fields=POLICY_FIELDS)
    return policy


def _adopt_policy(policy: SLAPolicy, limit: int = 10_000) -> None:
    """Timers still without a policy (none matched when their incident was logged) take a
    newly created or re-activated policy that matches them, from their original start."""
    if not policy.active:
        return
    waiting = SLATimer.objects.filter(policy__isnull=True, is_active=True, incident__priority=policy.priority)
    if policy.service_id:
        waiting = waiting.filter(incident__service_id=policy.service_id)
    if policy.customer_id:
        waiting = waiting.filter(incident__customer_id=policy.customer_id)
    if policy.incident_type:
        waiting = waiting.filter(incident__type=policy.incident_type)
    now = timezone.now()
    ids = waiting.values_list("incident_id", flat=True).distinct()[:limit]
    for incident in Incident.objects.filter(pk__in=list(ids)).order_by("pk"):
        sla_on_incident_changed(incident=incident, changes={"priority": (incident.priority,) * 2}, at=now)


@transaction.atomic
def policy_update(*, policy: SLAPolicy, actor: Actor = None, **data: Any) -> SLAPolicy:
    # Every policy a retarget request may touch (same priority, before and after) is locked
    # up front, in key order, so two edits at once queue instead of deadlocking.
    current = SLAPolicy.objects.filter(pk=policy.pk).values_list("priority", flat=True).get()
    priorities = {current, data.get("priority") or current}
    lock_policies(SLAPolicy.objects.filter(Q(pk=policy.pk) | Q(priority__in=priorities)))
    policy = SLAPolicy.objects.get(pk=policy.pk)
    audited = audit_snapshot(policy, POLICY_FIELDS)
    before = {field: getattr(policy, field) for field in RETARGET_FIELDS}
    for field, value in data.items():
        if field in POLICY_FIELDS:
            setattr(policy, field, value)
    clean_policy(policy)
    policy.save()
    _adopt_policy(policy)
    if any(getattr(policy, field) != old for field, old in before.items()):
        same_priority = SLAPolicy.objects.filter(priority__in={policy.priority, before["priority"]})
        request_retarget(same_priority)
    audit_updated(actor=actor, instance=policy, before=audited)
    return policy


@transaction.atomic
def policy_delete(*, policy: SLAPolicy, actor: Actor = None) -> None:
    """Delete a policy; the clocks it ran keep their instants and lose their policy."""
    policy = SLAPolicy.objects.select_for_update().get(pk=policy.pk)
    audit_deleted(actor=actor, instance=policy, before=audit_snapshot(policy, POLICY_FIELDS))
    policy.delete()
