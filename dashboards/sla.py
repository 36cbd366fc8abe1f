"""The SLA dashboard's numbers, each one aggregate query in the database.

Definitions (the compliance, MTTA and MTTR ones are those of `dashboards.metrics`):
- *In the period* means created in [start, end) unless a metric says otherwise.
- Compliance by dimension: timers under a policy of incidents created in the period,
  met = stopped without a breach, breached = a breach recorded; running ones are undecided.
- Breaches: timers whose breach instant falls in the period (the true due instant).
- At risk now: running timers (not breached, not paused) past their warning instant,
  whatever the period; ordered by due instant.
- Inflow: incidents created per day (per ISO week beyond 62 days); outflow: incidents
  resolved per day/week, both in the viewer's time zone.
- Backlog age: open incidents now (new, in progress, on hold) by age since creation.
- Resolved at tier 1: of incidents resolved in the period, those whose tier never rose
  above 1 (no history row changing the tier to 2 or 3) and that are at tier 1.
- Escalation rate to development: of incidents created in the period, those with an
  escalation to a development card (escalation.Escalation), at any time.
- Paused time by cause: the resolution clock's pause intervals (not the "stopped" ones),
  clipped to the period, summed per cause.
"""

from datetime import timedelta

from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncDay, TruncWeek
from django.utils import timezone

from escalation.models import Escalation
from incidents.models import OPEN_STATUSES, IncidentEvent
from sla.models import PauseCause, PausePeriod, SLATimer, TimerMetric, TimerState

from .filters import Scope
from .metrics import sla_metrics

WEEKLY_AFTER_DAYS = 62
LIST_LIMIT = 25
AT_RISK_LIMIT = 10
# Timer fields: the SLA service copies the incident's dimensions onto its timers.
DIMENSIONS = {
    "priority": ("priority", None),
    "team": ("team_id", "team__name"),
    "service": ("service_id", "service__name"),
    "customer": ("customer_id", "customer__name"),
}
AGE_BUCKETS = (
    ("under_1d", "Under a day", None, timedelta(days=1)),
    ("d1_3", "1–3 days", timedelta(days=1), timedelta(days=3)),
    ("d3_7", "3–7 days", timedelta(days=3), timedelta(days=7)),
    ("d7_30", "1–4 weeks", timedelta(days=7), timedelta(days=30)),
    ("over_30d", "Over 30 days", timedelta(days=30), None),
)

MET = Q(breached_at__isnull=True, is_active=False)
BREACHED = Q(breached_at__isnull=False)


def _pct(part, whole):
    return None if not whole else round(part * 100 / whole, 1)


def period_timers(scope: Scope):
    """Timers of the incidents created in the period. A timer starts when its incident is
    logged and carries the incident's priority, team, service and customer, so period and
    filters are read off the timer itself (an index-only scan, no join)."""
    return SLATimer.objects.filter(
        scope.q(), started_at__gte=scope.start, started_at__lt=scope.end, policy__isnull=False
    )


def compliance_by(scope: Scope, dimension: str) -> list[dict]:
    """Response and resolution compliance per value of one dimension (one query)."""
    key, label = DIMENSIONS[dimension]
    fields = [key] + ([label] if label else [])
    rows = (
        period_timers(scope)
        .values(*fields)
        .annotate(
            response_met=Count("pk", filter=MET & Q(metric=TimerMetric.RESPONSE)),
            response_breached=Count("pk", filter=BREACHED & Q(metric=TimerMetric.RESPONSE)),
            resolution_met=Count("pk", filter=MET & Q(metric=TimerMetric.RESOLUTION)),
            resolution_breached=Count("pk", filter=BREACHED & Q(metric=TimerMetric.RESOLUTION)),
        )
        .order_by(label or key)
    )
    result = []
    for row in rows:
        rm, rb = row["response_met"], row["response_breached"]
        sm, sb = row["resolution_met"], row["resolution_breached"]
        result.append(
            {
                "id": row[key],
                "label": row[label] if label else row[key],
                "response_met": rm,
                "response_breached": rb,
                "response_compliance": _pct(rm, rm + rb),
                "resolution_met": sm,
                "resolution_breached": sb,
                "resolution_compliance": _pct(sm, sm + sb),
            }
        )
    return result


def compliance_trend(scope: Scope) -> list[dict]:
    """Compliance per day or week of creation, for the trend chart (one query)."""
    trunc = _trunc(scope, "started_at")
    rows = (
        period_timers(scope)
        .annotate(bucket=trunc)
        .values("bucket")
        .annotate(
            response_met=Count("pk", filter=MET & Q(metric=TimerMetric.RESPONSE)),
            response_breached=Count("pk", filter=BREACHED & Q(metric=TimerMetric.RESPONSE)),
            resolution_met=Count("pk", filter=MET & Q(metric=TimerMetric.RESOLUTION)),
            resolution_breached=Count("pk", filter=BREACHED & Q(metric=TimerMetric.RESOLUTION)),
        )
        .order_by("bucket")
    )
    by_bucket = {timezone.localdate(r["bucket"]): r for r in rows}
    out = []
    for day in _buckets(scope):
        r = by_bucket.get(day, {})
        rm, rb = r.get("response_met", 0), r.get("response_breached", 0)
        sm, sb = r.get("resolution_met", 0), r.get("resolution_breached", 0)
        out.append(
            {
                "bucket": day.isoformat(),
                "response": _pct(rm, rm + rb),
                "resolution": _pct(sm, sm + sb),
            }
        )
    return out


def _weekly(scope: Scope) -> bool:
    return scope.days > WEEKLY_AFTER_DAYS


def _trunc(scope: Scope, field: str):
    tz = timezone.get_current_timezone()
    return TruncWeek(field, tzinfo=tz) if _weekly(scope) else TruncDay(field, tzinfo=tz)


def _buckets(scope: Scope) -> list:
    step = 7 if _weekly(scope) else 1
    day = scope.first_day - timedelta(days=scope.first_day.weekday()) if step == 7 else scope.first_day
    days = []
    while day <= scope.last_day:
        days.append(day)
        day += timedelta(days=step)
    return days


def flow(scope: Scope) -> list[dict]:
    """Inflow (created) and outflow (resolved) per bucket: two grouped queries."""
    base = scope.incidents()
    created = (
        base.filter(created_at__gte=scope.start, created_at__lt=scope.end)
        .annotate(bucket=_trunc(scope, "created_at"))
        .values("bucket")
        .annotate(n=Count("pk"))
        .order_by()
    )
    resolved = (
        base.filter(resolved_at__gte=scope.start, resolved_at__lt=scope.end)
        .annotate(bucket=_trunc(scope, "resolved_at"))
        .values("bucket")
        .annotate(n=Count("pk"))
        .order_by()
    )
    inflow = {timezone.localdate(r["bucket"]): r["n"] for r in created}
    outflow = {timezone.localdate(r["bucket"]): r["n"] for r in resolved}
    return [
        {"bucket": d.isoformat(), "created": inflow.get(d, 0), "resolved": outflow.get(d, 0)}
        for d in _buckets(scope)
    ]


def backlog_age(scope: Scope, now=None) -> list[dict]:
    now = now or timezone.now()
    aggregates = {}
    for key, _label, low, high in AGE_BUCKETS:
        q = Q()
        if low is not None:
            q &= Q(created_at__lte=now - low)
        if high is not None:
            q &= Q(created_at__gt=now - high)
        aggregates[key] = Count("pk", filter=q)
    row = scope.incidents().filter(status__in=OPEN_STATUSES).aggregate(**aggregates)
    return [{"key": key, "label": label, "count": row[key]} for key, label, _l, _h in AGE_BUCKETS]


def tier_one_share(scope: Scope) -> dict:
    raised = IncidentEvent.objects.filter(incident=OuterRef("pk"), field="tier", new__in=["2", "3"])
    row = (
        scope.incidents()
        .filter(resolved_at__gte=scope.start, resolved_at__lt=scope.end)
        .aggregate(
            resolved=Count("pk"),
            tier_one=Count("pk", filter=Q(tier=1) & ~Exists(raised)),
        )
    )
    return {**row, "share": _pct(row["tier_one"], row["resolved"])}


def escalation_rate(scope: Scope) -> dict:
    escalated = Escalation.objects.filter(incident=OuterRef("pk"))
    row = (
        scope.incidents()
        .filter(created_at__gte=scope.start, created_at__lt=scope.end)
        .aggregate(created=Count("pk"), escalated=Count("pk", filter=Exists(escalated)))
    )
    return {**row, "rate": _pct(row["escalated"], row["created"])}


def paused_by_cause(scope: Scope, now=None) -> list[dict]:
    now = now or timezone.now()
    end = min(now, scope.end)
    clipped = ExpressionWrapper(
        Least(Coalesce(F("ended_at"), Value(now)), Value(end))
        - Greatest(F("started_at"), Value(scope.start)),
        output_field=DurationField(),
    )
    rows = (
        PausePeriod.objects.filter(
            scope.q("timer__incident__"),
            timer__metric=TimerMetric.RESOLUTION,
            started_at__lt=end,
        )
        .exclude(cause=PauseCause.STOPPED)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=scope.start))
        .values("cause")
        .annotate(
            total=Sum(clipped), pauses=Count("pk"), incidents=Count("timer__incident_id", distinct=True)
        )
        .order_by("-total")
    )
    labels = dict(PauseCause.choices)
    return [
        {
            "cause": r["cause"],
            "label": labels.get(r["cause"], r["cause"]),
            "hours": round(r["total"].total_seconds() / 3600, 1) if r["total"] else 0.0,
            "pauses": r["pauses"],
            "incidents": r["incidents"],
        }
        for r in rows
    ]


def breaches(scope: Scope):
    """Timers breached in the period, newest first (a queryset: slice it or stream it)."""
    return (
        SLATimer.objects.filter(
            scope.q("incident__"),
            breached_at__gte=scope.start,
            breached_at__lt=scope.end,
        )
        .select_related("incident__team", "incident__assignee", "incident__service")
        .order_by("-breached_at", "-pk")
    )


def at_risk_now(scope: Scope, now=None):
    """Running timers past their warning instant and not yet breached, soonest due first."""
    now = now or timezone.now()
    return (
        SLATimer.objects.filter(
            scope.q("incident__"),
            state=TimerState.RUNNING,
            warn_at__lte=now,
        )
        .select_related("incident__team", "incident__assignee", "incident__service")
        # Sorting by an expression, not the bare column, keeps the planner off a walk of the
        # due_at index (hundreds of thousands of running timers) and on the small at-risk
        # partial index, then sorts the few rows it finds.
        .order_by(ExpressionWrapper(F("due_at") + Value(timedelta(0)), output_field=DateTimeField()), "pk")
    )


def sla_dashboard(scope: Scope, now=None) -> dict:
    now = now or timezone.now()
    headline = sla_metrics(start=scope.start, end=scope.end, incident_q=scope.q())
    breach_qs = breaches(scope)
    risk_qs = at_risk_now(scope, now)
    return {
        "headline": headline,
        "by": {name: compliance_by(scope, name) for name in DIMENSIONS},
        "trend": compliance_trend(scope),
        "flow": flow(scope),
        "weekly": _weekly(scope),
        "backlog": backlog_age(scope, now),
        "tier_one": tier_one_share(scope),
        "escalation": escalation_rate(scope),
        "paused": paused_by_cause(scope, now),
        "breaches": list(breach_qs[:LIST_LIMIT]),
        "breach_count": breach_qs.count(),
        "breached_incidents": breach_qs.order_by().values("incident_id").distinct().count(),
        "at_risk": list(risk_qs[:AT_RISK_LIMIT]),
        "now": now,
        "at_risk_count": risk_qs.count(),
    }
