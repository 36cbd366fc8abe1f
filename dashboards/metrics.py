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


def _prefixed(condition: Q, prefix="incident__") -> Q:
    """The same condition on a related incident: Q(team_id=1) → Q(incident__team_id=1)."""
    out = Q(_connector=condition.connector, _negated=condition.negated)
    for child in condition.children:
        out.children.append(
            _prefixed(child, prefix) if isinstance(child, Q) else (prefix + child[0], child[1])
        )
    return out


# Incident fields the SLA service copies onto every timer (see sla.models.SLATimer).
TIMER_DIMENSIONS = {"priority", "team_id", "service_id", "customer_id"}


def _lookups(condition: Q):
    for child in condition.children:
        if isinstance(child, Q):
            yield from _lookups(child)
        else:
            yield child[0]


def _on_timers(condition: Q) -> Q:
    """The condition for SLATimer rows: on the timer's own copies when it only names those
    (no join), through the incident otherwise."""
    if set(_lookups(condition)) <= TIMER_DIMENSIONS:
        return condition
    return _prefixed(condition)


def _seconds(duration):
    return None if duration is None else round(duration.total_seconds())


def sla_metrics(*, start: datetime, end: datetime, incidents=None, incident_q: Q | None = None) -> dict:
    """`incidents` narrows by a queryset; `incident_q`, a condition on Incident fields, does
    the same through a plain join (faster on large tables)."""
    base = Incident.objects.all() if incidents is None else incidents
    if incident_q is not None:
        base = base.filter(incident_q)
    in_period = base.filter(created_at__gte=start, created_at__lt=end)
    # A timer starts when its incident is logged: its own indexed start selects the period.
    joined = Q(started_at__gte=start, started_at__lt=end)
    if incident_q is not None:
        joined &= _on_timers(incident_q)
    if incidents is not None:
        joined &= Q(incident__in=in_period.values("pk"))
    timers = (
        SLATimer.objects.filter(joined, policy__isnull=False)
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
    mtta = SLATimer.objects.filter(joined, metric=TimerMetric.RESPONSE, stopped_at__isnull=False).aggregate(
        mean=Avg(ExpressionWrapper(F("stopped_at") - F("started_at"), output_field=DurationField()))
    )["mean"]
    mttr = in_period.filter(resolved_at__isnull=False).aggregate(
        mean=Avg(ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField()))
    )["mean"]
    result["mtta_seconds"] = _seconds(mtta)
    result["mttr_seconds"] = _seconds(mttr)
    result["incidents"] = in_period.count()
    return result
