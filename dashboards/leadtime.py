"""End-to-end lead time of escalated incidents, from the customer's report to the fix
delivered, split into five segments. One row per escalation to development whose card is
done (`escalation.Escalation` with outcome done or deployed).

The instants, all from recorded history:
- ``reported``  = the incident's ``created_at``.
- ``tier2_at``  = the first history row raising the incident's tier to 2 or 3
  (``IncidentEvent`` field "tier"); an incident created at tier 2 or above (its first tier
  change starts from 2 or 3, or it has none and sits at 2+) counts from its report.
  Capped at ``escalated_at`` (escalating straight from tier 1 to development leaves no
  tier-2 work).
- ``escalated_at`` = ``Escalation.at``, when support handed the incident to development.
- ``started_at`` = the card's ``started_at`` (its first move into an in-progress column,
  kept by boards from ``CardMove``), clamped to [escalated_at, done_at]: a card already in
  progress when linked has no development queue; one never started has no work time.
- ``done_at``   = the card's ``done_at``, else the escalation's ``returned_at``.
- ``delivered_at`` = the card's release ``deployed_at`` when the card is in a release
  (clamped to be no earlier than done_at); a card with no release is delivered when done.
  A card whose release is not deployed yet is still waiting: it is left out.

The segments, each non-negative, summing to delivered_at − reported:
- tier-1 wait   = tier2_at − reported
- tier-2 work   = escalated_at − tier2_at
- dev queue     = started_at − escalated_at
- dev work      = done_at − started_at
- release wait  = delivered_at − done_at
"""

from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least

from escalation.models import Escalation, Outcome
from incidents.models import IncidentEvent

from .filters import Scope

SEGMENTS = (
    ("tier1_wait", "Tier-1 wait"),
    ("tier2_work", "Tier-2 work"),
    ("dev_queue", "Development queue"),
    ("dev_work", "Development work"),
    ("release_wait", "Release wait"),
)


def _duration(expr):
    return ExpressionWrapper(expr, output_field=DurationField())


def lead_time_rows(scope: Scope | None = None):
    """Escalations with their instants and segments annotated (a queryset)."""
    first_raise = (
        IncidentEvent.objects.filter(incident=OuterRef("incident_id"), field="tier", new__in=["2", "3"])
        .order_by("at")
        .values("at")[:1]
    )
    qs = Escalation.objects.filter(outcome__in=[Outcome.DONE, Outcome.DEPLOYED]).filter(
        Q(card__release__isnull=True) | Q(card__release__deployed_at__isnull=False)
    )
    if scope is not None:
        qs = qs.filter(incident__in=scope.incidents().values("pk"))
    dt: DateTimeField[Any, Any] = DateTimeField()
    first_tier_change = IncidentEvent.objects.filter(incident=OuterRef("incident_id"), field="tier").order_by(
        "at", "pk"
    )
    qs = qs.annotate(
        reported=F("incident__created_at"),
        done=Coalesce(F("card__done_at"), F("returned_at"), output_field=dt),
        initial_tier=Subquery(first_tier_change.values("old")[:1]),
    ).annotate(
        raised=Case(
            # created at tier 2 or above: tier-2 work starts at the report
            When(
                Q(initial_tier__in=["2", "3"]) | Q(initial_tier__isnull=True, incident__tier__gte=2),
                then=F("incident__created_at"),
            ),
            default=Subquery(first_raise, output_field=dt),
            output_field=dt,
        ),
        delivered=Greatest(Coalesce(F("card__release__deployed_at"), F("done"), output_field=dt), F("done")),
    )
    qs = qs.annotate(
        tier2_at=Least(Greatest(Coalesce(F("raised"), F("at"), output_field=dt), F("reported")), F("at")),
        started=Least(
            Greatest(Coalesce(F("card__started_at"), F("done"), output_field=dt), F("at")), F("done")
        ),
    ).annotate(
        tier1_wait=_duration(F("tier2_at") - F("reported")),
        tier2_work=_duration(F("at") - F("tier2_at")),
        dev_queue=_duration(F("started") - F("at")),
        dev_work=_duration(F("done") - F("started")),
        release_wait=_duration(F("delivered") - F("done")),
        total=_duration(F("delivered") - F("reported")),
    )
    if scope is not None:
        qs = qs.filter(delivered__gte=scope.start, delivered__lt=scope.end)
    return qs


def _hours(value):
    return None if value is None else round(value.total_seconds() / 3600, 1)


def lead_time_summary(scope: Scope | None = None) -> dict:
    """Mean of each segment over escalations delivered in the period (one query)."""
    aggregates = {f"mean_{key}": Avg(key) for key, _ in SEGMENTS}
    row = lead_time_rows(scope).aggregate(count=Count("pk"), mean_total=Avg("total"), **aggregates)
    return {
        "count": row["count"],
        "total_hours": _hours(row["mean_total"]),
        "segments": [
            {"key": key, "label": label, "hours": _hours(row[f"mean_{key}"])} for key, label in SEGMENTS
        ],
    }


def lead_time_list(scope: Scope | None = None):
    return lead_time_rows(scope).select_related("incident", "card").order_by("-delivered", "-pk")
