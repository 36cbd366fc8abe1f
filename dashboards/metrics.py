"""SLA metrics, computed in the database.

Definitions (tested on hand-built data in tests/dashboards):
- The period selects incidents by their creation instant, `start <= created_at < end`.
- Only timers under a policy count (an incident no policy matched has no target).
- A timer is *breached* when a breach was recorded (even if it was later stopped), *met*
  when it stopped without one; running and paused timers are not decided yet and count in
  neither. Compliance = met / (met + breached) × 100, or None when nothing was decided.
- MTTA: mean wall-clock time from creation to the response timer's stop (first public
  reply, or an agent taking the incident in progress).
- MTTR: mean wall-clock time from creation to resolution, over incidents resolved.
"""

from datetime import datetime

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q

from incidents.models import Incident
from sla.models import SLATimer, TimerMetric


def _seconds(duration):
    return None if duration is None else round(duration.total_seconds())


def sla_metrics(*, start: datetime, end: datetime, incidents=None) -> dict:
    incidents = Incident.objects.all() if incidents is None else incidents
    in_period = incidents.filter(created_at__gte=start, created_at__lt=end)
    timers = (
        SLATimer.objects.filter(incident__in=in_period.values("pk"), policy__isnull=False)
        .values("metric")
        .annotate(
            breached=Count("pk", filter=Q(breached_at__isnull=False)),
            met=Count("pk", filter=Q(breached_at__isnull=True, is_active=False)),
        )
        .order_by()
    )
    counts = {row["metric"]: row for row in timers}
    result = {}
    for metric in TimerMetric.values:
        row = counts.get(metric, {"met": 0, "breached": 0})
        decided = row["met"] + row["breached"]
        result[metric] = {
            "met": row["met"],
            "breached": row["breached"],
            "compliance": None if decided == 0 else round(row["met"] * 100 / decided, 1),
        }
    mtta = SLATimer.objects.filter(
        incident__in=in_period.values("pk"), metric=TimerMetric.RESPONSE, stopped_at__isnull=False
    ).aggregate(
        mean=Avg(ExpressionWrapper(F("stopped_at") - F("incident__created_at"), output_field=DurationField()))
    )["mean"]
    mttr = in_period.filter(resolved_at__isnull=False).aggregate(
        mean=Avg(ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField()))
    )["mean"]
    result["mtta_seconds"] = _seconds(mtta)
    result["mttr_seconds"] = _seconds(mttr)
    result["incidents"] = in_period.count()
    return result
