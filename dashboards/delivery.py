"""The delivery dashboard: velocity and the support tax per sprint (from
`sprints.selectors.team_history`), a suggested support allocation, and flow metrics of the
team's board (from `boards.metrics`), plus a cycle-time histogram counted in the database.
"""

import math
from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.utils import timezone

from boards.metrics import board_metrics
from boards.models import Card
from sprints.selectors import team_history

SUGGESTION_SPRINTS = 6
SUGGESTION_STEP = 5
# Cycle-time histogram bins in days: [low, high).
CYCLE_BINS = ((0, 1), (1, 2), (2, 3), (3, 5), (5, 8), (8, 13), (13, 21), (21, None))


def suggested_support_allocation(history: list[dict], *, current: int) -> dict | None:
    """From the last closed sprints (up to six): the mean share of capacity that went to
    unplanned work, rounded up to the next 5 %, at most 100. None without history.

    Rounding up keeps a little slack: a reserve set at the mean is exceeded about every
    other sprint.
    """
    recent = [h for h in history if h.get("capacity")][-SUGGESTION_SPRINTS:]
    if not recent:
        return None
    shares = [float(h["support_share"]) for h in recent]
    mean = sum(shares) / len(shares)
    suggested = min(100, int(math.ceil(mean / SUGGESTION_STEP - 1e-9)) * SUGGESTION_STEP)
    return {
        "percent": suggested,
        "mean_share": round(mean, 1),
        "max_share": round(max(shares), 1),
        "sprints": len(recent),
        "current": current,
        "change": suggested - current,
    }


def cycle_time_histogram(board, *, days=42, now=None) -> list[dict]:
    """Cards done on the board in the last `days`, counted per cycle-time bin (one query)."""
    now = now or timezone.now()
    cycle = ExpressionWrapper(F("done_at") - F("started_at"), output_field=DurationField())
    aggregates = {}
    for low, high in CYCLE_BINS:
        q = Q(cycle__gte=timedelta(days=low))
        if high is not None:
            q &= Q(cycle__lt=timedelta(days=high))
        aggregates[f"b{low}"] = Count("pk", filter=q)
    row = (
        Card.objects.filter(
            board=board,
            done_at__gte=now - timedelta(days=days),
            cancelled_at__isnull=True,
            started_at__isnull=False,
        )
        .annotate(cycle=cycle)
        .aggregate(**aggregates)
    )
    return [
        {"label": f"{low}–{high} d" if high is not None else f"{low}+ d", "count": row[f"b{low}"]}
        for low, high in CYCLE_BINS
    ]


def delivery_dashboard(team, board, *, days=42) -> dict:
    history = team_history(team) if team is not None else []
    data = {
        "history": history,
        "sources": sorted({key for h in history for key in h["by_source"]}),
        "suggestion": suggested_support_allocation(history, current=team.support_allocation_percent)
        if team is not None
        else None,
        "board_metrics": board_metrics(board, days=days) if board is not None else None,
        "cycle_histogram": cycle_time_histogram(board, days=days) if board is not None else [],
    }
    return data
