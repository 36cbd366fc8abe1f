"""The SLA engine's gauges on /metrics (registered with tracker.metrics at start-up)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import Metric

from tracker.metrics import gauge

from .models import SLATimer, TimerState


def sla_gauges() -> Iterator[Metric]:
    """One query over the running timers' partial index: how many run, and how late the
    oldest one the sweep has not breached yet is (0 when the sweep is keeping up)."""
    now = timezone.now()
    row = SLATimer.objects.filter(state=TimerState.RUNNING).aggregate(
        running=Count("pk"), oldest_due=Min("due_at", filter=Q(due_at__lte=now))
    )
    yield gauge("tandem_sla_timers_running", "SLA timers running now.", row["running"])
    oldest = row["oldest_due"]
    yield gauge(
        "tandem_sla_sweep_lag_seconds",
        "How long the oldest running timer is past its due time without being breached.",
        0.0 if oldest is None else round((now - oldest).total_seconds(), 1),
    )
