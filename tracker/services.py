"""Writes on the project's own bookkeeping rows (not on any app's records)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import Heartbeat, IdempotentRequest

# The jobs whose last run /healthz and /metrics report (names of Heartbeat rows).
SLA_SWEEP = "sla_sweep"
MAIL_POLL = "mail_poll"


def idempotency_keys_expire(*, now: datetime | None = None) -> int:
    """Forget Idempotency-Keys older than IDEMPOTENCY_KEEP_HOURS (beat, hourly)."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_KEEP_HOURS)
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def heartbeat_record(name: str, *, at: datetime | None = None) -> None:
    """Note that the job `name` just finished: one INSERT ... ON CONFLICT DO UPDATE."""
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, at=at or timezone.now())],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["at"],
    )
