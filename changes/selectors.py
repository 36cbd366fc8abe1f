"""Reads of change requests: the filtered list and the triage queue."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.utils import timezone

from .models import TRIAGE_STATUSES, ChangeRequest, Kind


def change_request_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[ChangeRequest]:
    filters = filters or {}
    qs = ChangeRequest.objects.select_related("requester", "team", "card", "decided_by").annotate(
        incident_count=Count("incidents", distinct=True)
    )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("source"):
        qs = qs.filter(source=filters["source"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("team"):
        qs = qs.filter(team_id=filters["team"])
    if filters.get("q"):
        qs = qs.filter(Q(title__icontains=filters["q"]) | Q(key__iexact=filters["q"]))
    return qs


TRIAGE_SORTS = {
    "oldest": ("created_at", "id"),
    "newest": ("-created_at", "-id"),
    "incidents": ("-incident_count", "created_at"),
    "kind": ("kind", "created_at"),
}


def triage_queue(
    *, filters: Mapping[str, Any] | None = None, sort: str = "oldest"
) -> QuerySet[ChangeRequest]:
    """Requests waiting for a decision; emergencies first unless sorted otherwise."""
    qs = change_request_list(filters={k: v for k, v in (filters or {}).items() if k != "status"})
    qs = qs.filter(status__in=TRIAGE_STATUSES)
    status = (filters or {}).get("status")
    if status:
        qs = qs.filter(status=status)
    emergency_first = Case(When(kind=Kind.EMERGENCY, then=Value(0)), default=Value(1))
    return qs.order_by(emergency_first, *TRIAGE_SORTS.get(sort, TRIAGE_SORTS["oldest"]))


def age_days(change: ChangeRequest, now: datetime | None = None) -> int:
    return ((now or timezone.now()) - change.created_at).days
