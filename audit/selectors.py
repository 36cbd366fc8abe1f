"""Reading the audit log: newest first, narrowed by model, object, actor and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from .models import AuditEntry


@dataclass(frozen=True)
class AuditFilters:
    model: str = ""
    object_id: str = ""
    actor: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_entry_list(*, filters: AuditFilters | None = None) -> QuerySet[AuditEntry]:
    filters = filters or AuditFilters()
    qs = AuditEntry.objects.select_related("actor").order_by("-at", "-id")
    if filters.model:
        qs = qs.filter(model=filters.model)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    if filters.actor is not None:
        qs = qs.filter(actor_id=filters.actor)
    if filters.since is not None:
        qs = qs.filter(at__gte=filters.since)
    if filters.until is not None:
        qs = qs.filter(at__lt=filters.until)
    return qs


def audit_model_names() -> list[str]:
    return list(AuditEntry.objects.order_by("model").values_list("model", flat=True).distinct())
