"""Backtest of the fix forecast: replay a board's history and check the forecasts against
what really happened (manage.py forecast_backtest).

For each card that reached done, at the moment it was committed to — when it first entered
a ready column (or, never having been ready, an in-progress one) — the board is rebuilt as
it stood then from its recorded moves: which cards were open in which column and lane, and
which cards of each lane class had been done on each day of the weeks before. The forecast
boards.forecast would have given then is compared with the day the card was really done:
a hit when it was done by the 85 % date (and, for calibration, by the 50 % date).

Ranks are not in the move history, so within a column the cards are taken in the order
they arrived there (the expedite policy's top-of-cell placement included: an expedite card
arriving goes first). Cards bulk-loaded without moves (the benchmark board) are replayed
from their timestamps: created into the first ready column, started into the first
in-progress column, done into the done column.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from . import forecast as fc
from .forecasting import forecast_settings, history_weeks, history_window
from .models import Board, Card, CardMove, Column, ColumnCategory, Lane, LaneKind


@dataclass
class BacktestResult:
    board: str
    evaluated: int = 0
    insufficient: int = 0
    hits85: int = 0
    hits50: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [evaluated, hits85, hits50]
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def hit_rate85(self) -> float | None:
        return self.hits85 / self.evaluated if self.evaluated else None

    @property
    def hit_rate50(self) -> float | None:
        return self.hits50 / self.evaluated if self.evaluated else None


def _events(
    board: Board, columns: dict[int, tuple[int, str]]
) -> tuple[dict[int, list[tuple[datetime, int, int]]], dict[int, dict[str, Any]]]:
    """Per card, its (at, column, lane) placements in time order; and the cards' facts."""
    cards: dict[int, dict[str, Any]] = {
        row["id"]: dict(row)
        for row in Card.objects.filter(board=board).values(
            "id", "lane_id", "column_id", "created_at", "started_at", "done_at", "cancelled_at"
        )
    }
    placements: dict[int, list[tuple[datetime, int, int]]] = {pk: [] for pk in cards}
    for card_id, at, to_column, to_lane, from_column in (
        CardMove.objects.filter(card__board=board)
        .values_list("card_id", "at", "to_column_id", "to_lane_id", "from_column_id")
        .order_by("at", "id")
    ):
        if from_column == to_column and placements[card_id]:
            continue  # a cancellation or a re-rank: no new place
        placements[card_id].append((at, to_column, to_lane or cards[card_id]["lane_id"]))
    by_category: dict[str, int] = {}
    for pk, (_position, category) in sorted(columns.items(), key=lambda kv: kv[1][0]):
        by_category.setdefault(category, pk)
    for pk, card in cards.items():
        if placements[pk]:
            continue
        lane = card["lane_id"]
        first = by_category.get(ColumnCategory.READY, card["column_id"])
        placements[pk].append((card["created_at"], first, lane))
        if card["started_at"] and ColumnCategory.IN_PROGRESS in by_category:
            placements[pk].append((card["started_at"], by_category[ColumnCategory.IN_PROGRESS], lane))
        if card["done_at"] and ColumnCategory.DONE in by_category:
            placements[pk].append((card["done_at"], by_category[ColumnCategory.DONE], lane))
    return placements, cards


def board_backtest(
    board: Board,
    *,
    limit: int | None = None,
    trials: int = 500,
    today: date | None = None,
    seed: int | None = None,
) -> BacktestResult:
    """Replay `board` (its last `limit` judged cards when given) and count the hits.

    Every card committed to (cancelled ones aside) whose forecast 85 % date is over by
    `today` is judged, done or not: a card still open after its 85 % date is a miss. Judging
    only the cards that got done would leave out exactly the late ones (those still waiting)
    and make any forecast look safe; judging a card only once its dates are past selects by
    the forecast, not by the outcome."""
    today = today or timezone.localdate()
    columns = {
        pk: (pos, cat)
        for pk, pos, cat in Column.objects.filter(board=board).values_list("pk", "position", "category")
    }
    lanes = dict(Lane.objects.filter(board=board).values_list("pk", "kind"))
    placements, cards = _events(board, columns)
    result = BacktestResult(board=board.name)
    weeks = history_weeks()
    knobs = replace(forecast_settings(seed=board.pk if seed is None else seed), trials=trials)
    done_cards = sorted(
        (c for c in cards.values() if c["done_at"] and not c["cancelled_at"]), key=lambda c: c["done_at"]
    )
    first_done = timezone.localdate(done_cards[0]["done_at"]) if done_cards else None
    # Done days per lane class, for the history at any instant.
    done_by_kind: dict[str, list[datetime]] = {kind: [] for kind in LaneKind.values}
    for c in done_cards:
        done_by_kind[lanes[placements[c["id"]][-1][2]]].append(c["done_at"])
    for kind in done_by_kind:
        done_by_kind[kind].sort()
    done_day_of = {c["id"]: timezone.localdate(c["done_at"]) for c in done_cards}
    commits = []
    for card in cards.values():
        if card["cancelled_at"] is not None:
            continue
        committed = _committed_at(placements[card["id"]], columns)
        if committed is not None:
            commits.append((committed, card))
    commits.sort(key=lambda pair: (pair[0][0], pair[1]["id"]))
    judged = []
    for (at, _column, lane), card in commits:
        kind = lanes[lane]
        day = timezone.localdate(at)
        first, last = history_window(today=day, first_day=first_done, weeks=weeks)
        start_of_day = datetime.combine(day, datetime.min.time(), tzinfo=timezone.get_current_timezone())
        before_today = bisect_left(done_by_kind[kind], start_of_day)
        past = done_by_kind[kind][:before_today]
        done_today = bisect_right(done_by_kind[kind], at) - before_today
        history = fc.daily_counts(
            [timezone.localdate(d) for d in past], first=first, last=last, done_today=done_today
        )
        queue = _queue_at(at, card["id"], placements, cards, columns, lanes, kind)
        forecasts = fc.forecast_queue(queue, history, start=day, settings=knobs)
        forecast = forecasts.get(card["id"])
        if forecast is None:
            continue
        if forecast.status == "insufficient_history":
            result.insufficient += 1
            continue
        if forecast.p85 is None or forecast.p85 >= today:
            continue  # its 85 % date is not over yet (or beyond the horizon): nothing to judge
        done_day = done_day_of.get(card["id"])
        ahead = [c for c in queue if forecasts[c.card_id].cards_ahead < forecast.cards_ahead]
        overtaken = sum(
            1 for c in ahead if done_day is None or done_day_of.get(c.card_id, date.max) > done_day
        )
        judged.append((card, kind, day, forecast, done_day, history, overtaken))
    for card, kind, day, forecast, done_day, history, overtaken in judged[-limit:] if limit else judged:
        hit85 = done_day is not None and forecast.p85 is not None and done_day <= forecast.p85
        hit50 = done_day is not None and forecast.p50 is not None and done_day <= forecast.p50
        result.evaluated += 1
        result.hits85 += hit85
        result.hits50 += hit50
        counts = result.by_kind.setdefault(kind, [0, 0, 0])
        counts[0] += 1
        counts[1] += hit85
        counts[2] += hit50
        result.rows.append(
            {"card": card["id"], "kind": kind, "committed": day, "p50": forecast.p50, "p85": forecast.p85,
             "done": done_day, "ahead": forecast.cards_ahead, "work": forecast.work, "hit85": hit85,
             "hit50": hit50, "rate": history.done / history.days if history.days else 0.0,
             "history_days": history.days, "overtaken": overtaken}
        )  # fmt: skip
    return result


def _committed_at(
    places: list[tuple[datetime, int, int]], columns: dict[int, tuple[int, str]]
) -> tuple[datetime, int, int] | None:
    for wanted in (ColumnCategory.READY, ColumnCategory.IN_PROGRESS):
        for place in places:
            if columns[place[1]][1] == wanted:
                return place
    return None


def _queue_at(
    at: datetime,
    card_id: int,
    placements: dict[int, list[tuple[datetime, int, int]]],
    cards: dict[int, dict[str, Any]],
    columns: dict[int, tuple[int, str]],
    lanes: dict[int, str],
    kind: str,
) -> list[fc.QueueCard]:
    """The lane class's open cards at `at` (the card included, just placed), ranked by
    arrival in their column; an expedite card arriving goes to the top."""
    queue = []
    for pk, places in placements.items():
        cancelled = cards[pk]["cancelled_at"]
        if cancelled is not None and cancelled <= at:
            continue
        current = None
        arrived = None
        for place in places:
            if place[0] > at:
                break
            if current is None or place[1] != current[1]:
                arrived = place[0]
            current = place
        if current is None or lanes[current[2]] != kind:
            continue
        position, category = columns[current[1]]
        if category == ColumnCategory.DONE:
            continue
        assert arrived is not None
        rank = int(arrived.timestamp() * 1000)
        if kind == LaneKind.EXPEDITE and pk == card_id:
            rank = -rank
        queue.append(fc.QueueCard(pk, position, category == ColumnCategory.IN_PROGRESS, rank))
    return queue


def date_or_dash(value: date | None) -> str:
    return value.isoformat() if value else "—"
