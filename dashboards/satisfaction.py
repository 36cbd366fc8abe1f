"""Customer satisfaction on the SLA dashboard (SPEC §15): the requesters' ratings of their
resolutions (portal.SatisfactionRating) in the period, overall, by team, service and
customer (as they stood when rated), with the latest comments. Five queries whatever the
number of ratings."""

from django.db.models import Avg, Count, Q

from portal.models import SatisfactionRating

from .filters import Scope

LATEST_COMMENTS = 10
SATISFIED = Q(score__gte=4)


def _ratings(scope: Scope):
    qs = SatisfactionRating.objects.filter(created_at__gte=scope.start, created_at__lt=scope.end)
    for name in ("team", "service", "customer"):
        value = getattr(scope, name)
        if value is not None:
            qs = qs.filter(**{f"{name}_id": value.pk})
    if scope.priority:
        qs = qs.filter(incident__priority=scope.priority)
    return qs


def _row(values: dict) -> dict:
    count = values["count"] or 0
    return {
        "count": count,
        "average": round(values["average"], 2) if values["average"] is not None else None,
        # CSAT: the share of 4s and 5s, the usual headline of a helpdesk's satisfaction.
        "csat": round(100 * values["satisfied"] / count, 1) if count else None,
    }


def _by(qs, name: str) -> list[dict]:
    rows = (
        qs.values(f"{name}_id", f"{name}__name")
        .annotate(count=Count("id"), average=Avg("score"), satisfied=Count("id", filter=SATISFIED))
        .order_by(f"{name}__name")
    )
    return [{"id": r[f"{name}_id"], "label": r[f"{name}__name"], **_row(r)} for r in rows]


def satisfaction_summary(scope: Scope) -> dict:
    qs = _ratings(scope)
    overall = _row(
        qs.aggregate(count=Count("id"), average=Avg("score"), satisfied=Count("id", filter=SATISFIED))
    )
    comments = list(
        qs.exclude(comment="")
        .select_related("incident", "customer", "team", "contact")
        .order_by("-created_at", "-id")[:LATEST_COMMENTS]
    )
    return {
        "overall": overall,
        "by": {"team": _by(qs, "team"), "service": _by(qs, "service"), "customer": _by(qs, "customer")},
        "comments": comments,
    }
