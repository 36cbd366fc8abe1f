"""The incidents behind a dashboard number: the same scope and definition as the number."""

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from escalation.models import Escalation
from incidents.models import OPEN_STATUSES, Incident, IncidentEvent
from sla.models import SLATimer, TimerMetric

from .filters import Scope
from .metrics import MET
from .sla import AGE_BUCKETS

SHOW = {
    "created": "Created in the period",
    "resolved": "Resolved in the period",
    "met": "SLA met (created in the period)",
    "breached": "SLA breached (created in the period)",
    "breaches": "Breaches recorded in the period",
    "tier_one": "Resolved at tier 1 in the period",
    "escalated": "Escalated to development (created in the period)",
    "open": "Open now",
    **{f"age_{key}": f"Open now, age {label.lower()}" for key, label, _l, _h in AGE_BUCKETS},
}


def drilldown_incidents(scope: Scope, show: str, metric: str = "", now=None):
    now = now or timezone.now()
    qs = scope.incidents()
    created = Q(created_at__gte=scope.start, created_at__lt=scope.end)
    timers = SLATimer.objects.filter(incident=OuterRef("pk"), policy__isnull=False)
    if metric in TimerMetric.values:
        timers = timers.filter(metric=metric)
    if show == "created":
        qs = qs.filter(created)
    elif show == "resolved":
        qs = qs.filter(resolved_at__gte=scope.start, resolved_at__lt=scope.end)
    elif show == "met":
        qs = qs.filter(created).filter(Exists(timers.filter(MET)))
    elif show == "breached":
        qs = qs.filter(created).filter(Exists(timers.filter(breached_at__isnull=False)))
    elif show == "breaches":
        qs = qs.filter(Exists(timers.filter(breached_at__gte=scope.start, breached_at__lt=scope.end)))
    elif show == "tier_one":
        raised = IncidentEvent.objects.filter(incident=OuterRef("pk"), field="tier", new__in=["2", "3"])
        qs = qs.filter(resolved_at__gte=scope.start, resolved_at__lt=scope.end, tier=1).exclude(
            Exists(raised)
        )
    elif show == "escalated":
        qs = qs.filter(created).filter(Exists(Escalation.objects.filter(incident=OuterRef("pk"))))
    elif show == "open" or show.startswith("age_"):
        qs = qs.filter(status__in=OPEN_STATUSES)
        for key, _label, low, high in AGE_BUCKETS:
            if show == f"age_{key}":
                if low is not None:
                    qs = qs.filter(created_at__lte=now - low)
                if high is not None:
                    qs = qs.filter(created_at__gt=now - high)
    else:
        return Incident.objects.none()
    return qs
