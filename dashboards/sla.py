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

from dataclasses import dataclass
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
from org.models import Customer, Service, Team
from sla.models import PauseCause, PausePeriod, SLATimer, TimerMetric
from sla.selectors import timers_at_risk

from .filters import Scope
from .metrics import Counts, percent, sla_metrics, timer_rollup

WEEKLY_AFTER_DAYS = 62
LIST_LIMIT = 25
AT_RISK_LIMIT = 10
AT_RISK_PROBE = 1000
# Timer fields: the SLA service copies the incident's dimensions onto its timers.
# Reporting dimensions (copied onto every timer) and the model naming their values.
DIMENSIONS = {"priority": None, "team": Team, "service": Service, "customer": Customer}
AGE_BUCKETS = (
    ("under_1d", "Under a day", None, timedelta(days=1)),
    ("d1_3", "1–3 days", timedelta(days=1), timedelta(days=3)),
    ("d3_7", "3–7 days", timedelta(days=3), timedelta(days=7)),
    ("d7_30", "1–4 weeks", timedelta(days=7), timedelta(days=30)),
    ("over_30d", "Over 30 days", timedelta(days=30), None),
)


def rollup(scope: Scope):
    """Every compliance figure of the scope's period in one pass (see dashboards.metrics)."""
    return timer_rollup(
        start=scope.start,
        end=scope.end,
        condition=scope.q(),
        weekly=_weekly(scope),
        tz=timezone.get_current_timezone(),
    )


def compliance_by(scope: Scope, dimension: str, rolled=None) -> list[dict]:
    """Response and resolution compliance per value of one dimension, ordered by label."""
    rolled = rolled or rollup(scope)
    values = rolled.by.get(dimension, {})
    model = DIMENSIONS[dimension]
    names = (
        dict(model.objects.filter(pk__in=[v for v in values if v is not None]).values_list("pk", "name"))
        if model
        else {}
    )
    result = []
    for value, per_metric in values.items():
        response = per_metric.get(TimerMetric.RESPONSE, Counts())
        resolution = per_metric.get(TimerMetric.RESOLUTION, Counts())
        result.append(
            {
                "id": value,
                "label": names.get(value) if model else value,
                "response_met": response.met,
                "response_breached": response.breached,
                "response_compliance": response.compliance,
                "resolution_met": resolution.met,
                "resolution_breached": resolution.breached,
                "resolution_compliance": resolution.compliance,
            }
        )
    result.sort(key=lambda row: (row["label"] is None, row["label"] or ""))
    return result


def compliance_trend(scope: Scope, rolled=None) -> list[dict]:
    """Compliance per day or week of creation, for the trend chart."""
    rolled = rolled or rollup(scope)
    out = []
    for day in _buckets(scope):
        per_metric = rolled.trend.get(day, {})
        out.append(
            {
                "bucket": day.isoformat(),
                "response": per_metric.get(TimerMetric.RESPONSE, Counts()).compliance,
                "resolution": per_metric.get(TimerMetric.RESOLUTION, Counts()).compliance,
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


@dataclass
class IncidentFlow:
    """Incidents created and resolved in the period, per bucket, with what the tiles need."""

    created: dict  # bucket -> incidents created
    resolved: dict  # bucket -> incidents resolved
    escalated: int = 0  # of those created, escalated to development
    tier_one: int = 0  # of those resolved, resolved at tier 1
    resolved_of_created: int = 0
    time_to_resolve: timedelta = timedelta(0)  # summed over resolved_of_created

    @property
    def created_total(self) -> int:
        return sum(self.created.values())

    @property
    def resolved_total(self) -> int:
        return sum(self.resolved.values())

    @property
    def mttr(self) -> timedelta | None:
        return self.time_to_resolve / self.resolved_of_created if self.resolved_of_created else None


def incident_flow(scope: Scope) -> IncidentFlow:
    """Two grouped queries: incidents created in the period per bucket (with how many were
    escalated to development and their time to resolve) and incidents resolved in the period
    per bucket (with how many stayed at tier 1)."""
    base = scope.incidents()
    escalated = Exists(Escalation.objects.filter(incident=OuterRef("pk")))
    raised = Exists(IncidentEvent.objects.filter(incident=OuterRef("pk"), field="tier", new__in=["2", "3"]))
    fixed = Q(resolved_at__isnull=False)
    created = (
        base.filter(created_at__gte=scope.start, created_at__lt=scope.end)
        .annotate(bucket=_trunc(scope, "created_at"))
        .values("bucket")
        .annotate(
            n=Count("pk"),
            escalated=Count("pk", filter=escalated),
            fixed=Count("pk", filter=fixed),
            to_resolve=Sum(
                ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField()),
                filter=fixed,
            ),
        )
        .order_by()
    )
    resolved = (
        base.filter(resolved_at__gte=scope.start, resolved_at__lt=scope.end)
        .annotate(bucket=_trunc(scope, "resolved_at"))
        .values("bucket")
        .annotate(n=Count("pk"), tier_one=Count("pk", filter=Q(tier=1) & ~raised))
        .order_by()
    )
    result = IncidentFlow(created={}, resolved={})
    for row in created:
        result.created[timezone.localdate(row["bucket"])] = row["n"]
        result.escalated += row["escalated"]
        result.resolved_of_created += row["fixed"]
        result.time_to_resolve += row["to_resolve"] or timedelta(0)
    for row in resolved:
        result.resolved[timezone.localdate(row["bucket"])] = row["n"]
        result.tier_one += row["tier_one"]
    return result


def flow(scope: Scope, incidents: IncidentFlow | None = None) -> list[dict]:
    """Inflow (created) and outflow (resolved) per bucket."""
    incidents = incidents or incident_flow(scope)
    return [
        {
            "bucket": d.isoformat(),
            "created": incidents.created.get(d, 0),
            "resolved": incidents.resolved.get(d, 0),
        }
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


def tier_one_share(scope: Scope, incidents: IncidentFlow | None = None) -> dict:
    incidents = incidents or incident_flow(scope)
    resolved, tier_one = incidents.resolved_total, incidents.tier_one
    return {"resolved": resolved, "tier_one": tier_one, "share": percent(tier_one, resolved)}


def escalation_rate(scope: Scope, incidents: IncidentFlow | None = None) -> dict:
    incidents = incidents or incident_flow(scope)
    created, escalated = incidents.created_total, incidents.escalated
    return {"created": created, "escalated": escalated, "rate": percent(escalated, created)}


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
            scope.q("timer__"),
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
            scope.q(),
            breached_at__gte=scope.start,
            breached_at__lt=scope.end,
        )
        .select_related("incident__team", "incident__assignee", "incident__service")
        .order_by("-breached_at", "-pk")
    )


def at_risk_now(scope: Scope, now=None):
    """Running timers past their warning instant and not yet breached, soonest due first."""
    return (
        timers_at_risk(now)
        .filter(scope.q())
        .select_related("incident__team", "incident__assignee", "incident__service")
        # Sorting by an expression, not the bare column, keeps the planner off a walk of the
        # due_at index (hundreds of thousands of running timers) and on the small at-risk
        # partial index, then sorts the few rows it finds.
        .order_by(ExpressionWrapper(F("due_at") + Value(timedelta(0)), output_field=DateTimeField()), "pk")
    )


def at_risk_first(scope: Scope, now=None, limit=AT_RISK_LIMIT) -> tuple[list, int]:
    """The soonest-due timers at risk now and how many there are. Which ones is answered by
    the at-risk index alone, then only those rows are loaded.

    The index is walked in its own order (warning instant) for up to AT_RISK_PROBE + 1
    timers first: that many or fewer are counted and sorted by due instant here. PostgreSQL
    estimates "running and warned" as the product of two common conditions (400,000 of 1M
    timers when none were at risk) and would otherwise scan every timer twice, for the
    page and for the count: 455 ms of the SLA dashboard."""
    risk = at_risk_now(scope, now)
    probe = list(risk.order_by("warn_at", "pk").values_list("pk", "due_at")[: AT_RISK_PROBE + 1])
    if len(probe) <= AT_RISK_PROBE:
        # As at_risk_now orders them: soonest due first (none last), then by id.
        probe.sort(key=lambda row: (row[1] is None, row[1] or now, row[0]))
        ids = [pk for pk, _due in probe[:limit]]
        return _at_risk_rows(ids), len(probe)
    ids = list(risk.values_list("pk", flat=True)[:limit])
    return _at_risk_rows(ids), risk.count()


def _at_risk_rows(ids: list[int]) -> list:
    rows = SLATimer.objects.filter(pk__in=ids).select_related(
        "incident__team", "incident__assignee", "incident__service"
    )
    by_id = {timer.pk: timer for timer in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def sla_dashboard(scope: Scope, now=None) -> dict:
    now = now or timezone.now()
    rolled = rollup(scope)
    incidents = incident_flow(scope)
    totals = {"incidents": incidents.created_total, "mttr": incidents.mttr}
    headline = sla_metrics(
        start=scope.start, end=scope.end, incident_q=scope.q(), rollup=rolled, totals=totals
    )
    breach_qs = breaches(scope)
    breach_totals = breach_qs.order_by().aggregate(
        clocks=Count("pk"), incidents=Count("incident_id", distinct=True)
    )
    at_risk, at_risk_count = at_risk_first(scope, now)
    return {
        "headline": headline,
        "by": {name: compliance_by(scope, name, rolled) for name in DIMENSIONS},
        "trend": compliance_trend(scope, rolled),
        "flow": flow(scope, incidents),
        "weekly": _weekly(scope),
        "backlog": backlog_age(scope, now),
        "tier_one": tier_one_share(scope, incidents),
        "escalation": escalation_rate(scope, incidents),
        "paused": paused_by_cause(scope, now),
        "breaches": list(breach_qs[:LIST_LIMIT]),
        "breach_count": breach_totals["clocks"],
        "breached_incidents": breach_totals["incidents"],
        "at_risk": at_risk,
        "now": now,
        "at_risk_count": at_risk_count,
    }
