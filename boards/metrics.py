"""Flow metrics of a board, from the recorded moves (CardMove) and blocks (BlockPeriod).

Heavy lifting is done by the database (first arrivals per card and column, weekly counts,
summed blocked durations); Python only accumulates the small aggregated rows.
"""

from bisect import bisect_right
from datetime import datetime, time, timedelta
from itertools import accumulate

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from .models import BlockPeriod, Card, CardMove, Column, ColumnCategory

PERCENTILES = (50, 85, 95)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, -(-p * len(sorted_values) // 100))  # ceil(p/100 * n)
    return sorted_values[rank - 1]


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400, 2)


def cumulative_flow(board, columns, start, end):
    """Per day, how many cards had reached each column (or a later one): the CFD bands."""
    first_arrivals = (
        CardMove.objects.filter(card__board=board, card__cancelled_at__isnull=True)
        .values("card_id", "to_column_id")
        .annotate(first=Min("at"))
    )
    position = {c["id"]: i for i, c in enumerate(columns)}
    # earliest instant each card reached column index >= k
    reached: dict[int, list] = {}
    for row in first_arrivals:
        idx = position.get(row["to_column_id"])
        if idx is None:
            continue
        per_card = reached.setdefault(row["card_id"], [None] * len(columns))
        for k in range(idx + 1):
            if per_card[k] is None or row["first"] < per_card[k]:
                per_card[k] = row["first"]
    days = []
    day = start
    while day <= end:
        days.append(day)
        day += timedelta(days=1)
    tz = timezone.get_current_timezone()
    ends = [datetime.combine(d + timedelta(days=1), time.min, tzinfo=tz) for d in days]
    # arrivals per column and day, then a running sum (bisect finds the day of each arrival)
    arrivals = [[0] * (len(days) + 1) for _ in columns]
    for per_card in reached.values():
        for k, at in enumerate(per_card):
            if at is not None:
                arrivals[k][bisect_right(ends, at)] += 1
    cumulative = [list(accumulate(row))[: len(days)] for row in arrivals]
    # bands: cards that reached column k but not k+1 (what sits in k at the end of the day)
    bands = []
    for k, col in enumerate(columns):
        nxt = cumulative[k + 1] if k + 1 < len(columns) else [0] * len(days)
        bands.append({"name": col["name"], "category": col["category"],
                      "values": [cumulative[k][i] - nxt[i] for i in range(len(days))]})  # fmt: skip
    return {"labels": [d.isoformat() for d in days], "bands": bands}


def board_metrics(board, *, days=42, now=None):
    now = now or timezone.now()
    end = timezone.localdate(now)
    start = end - timedelta(days=days - 1)
    since = now - timedelta(days=days)
    columns = list(
        Column.objects.filter(board=board).order_by("position", "id").values("id", "name", "category")
    )

    done = list(
        Card.objects.filter(board=board, done_at__gte=since, cancelled_at__isnull=True)
        .order_by("done_at")
        .values("id", "key", "title", "type", "created_at", "started_at", "done_at")
    )
    cycle = sorted(_days(c["done_at"] - (c["started_at"] or c["done_at"])) for c in done)
    lead = sorted(_days(c["done_at"] - c["created_at"]) for c in done)
    scatter = [
        {"x": c["done_at"].isoformat(), "y": _days(c["done_at"] - (c["started_at"] or c["done_at"])),
         "key": c["key"], "title": c["title"]}
        for c in done
    ]  # fmt: skip

    weekly = list(
        Card.objects.filter(board=board, done_at__gte=since, cancelled_at__isnull=True)
        .annotate(week=TruncWeek("done_at"))
        .values("week")
        .annotate(n=Count("id"))
        .order_by("week")
    )
    throughput = [{"week": timezone.localdate(w["week"]).isoformat(), "count": w["n"]} for w in weekly]

    ageing = list(
        Card.objects.filter(
            board=board, column__category=ColumnCategory.IN_PROGRESS, cancelled_at__isnull=True
        )
        .select_related(None)
        .order_by("started_at")
        .values("id", "key", "title", "column__name", "assignee__username", "started_at", "blocked")
    )
    for a in ageing:
        a["age_days"] = _days(now - a["started_at"]) if a["started_at"] else 0.0
    p85 = percentile(cycle, 85)
    for a in ageing:
        a["beyond_p85"] = p85 is not None and a["age_days"] > p85

    duration = ExpressionWrapper(
        Coalesce(F("ended_at"), Value(now)) - F("started_at"), output_field=DurationField()
    )
    blocked = list(
        BlockPeriod.objects.filter(card__board=board)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=since))
        .values("reason__label")
        .annotate(total=Sum(duration), n=Count("id"), open=Count("id", filter=Q(ended_at__isnull=True)))
        .order_by("-total")
    )
    for b in blocked:
        b["days"] = _days(b["total"]) if b["total"] else 0.0

    overrides = list(
        CardMove.objects.filter(card__board=board, override_reason__isnull=False, at__gte=since)
        .values("override_reason__label")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    return {
        "since": since,
        "cfd": cumulative_flow(board, columns, start, end),
        "cycle": {
            "count": len(cycle),
            "percentiles": {p: percentile(cycle, p) for p in PERCENTILES},
            "mean": round(sum(cycle) / len(cycle), 2) if cycle else None,
        },
        "lead": {
            "count": len(lead),
            "percentiles": {p: percentile(lead, p) for p in PERCENTILES},
            "mean": round(sum(lead) / len(lead), 2) if lead else None,
        },
        "scatter": scatter,
        "done": done,
        "throughput": throughput,
        "ageing": ageing,
        "blocked": blocked,
        "blocked_chart": [{"label": b["reason__label"], "days": b["days"]} for b in blocked],
        "ageing_chart": [
            {"key": a["key"], "column": a["column__name"], "age": a["age_days"]} for a in ageing
        ],
        "in_progress_columns": [c["name"] for c in columns if c["category"] == ColumnCategory.IN_PROGRESS],
        "overrides": overrides,
    }
