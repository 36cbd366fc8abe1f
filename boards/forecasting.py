"""The fix forecast's inputs and cache: boards.forecast does the arithmetic, this module
gathers its inputs from the board and keeps the results.

A move can change the forecast of every card behind it in its lane class, and a card done
changes the throughput every forecast learns from, so forecasts are kept per board: the
board's open cards are forecast together in one pass (a fixed number of queries, one
simulation per lane class) and stored as CardForecast rows, stamped in BoardForecastRun
with the board's version — its card count, the last change to any of its cards, the day
and the forecast settings. Every read first compares the stamp with the board's version
(one grouped query for any number of boards) and recomputes a board whose cards moved
since, so a stale forecast is never served and nothing is computed per row of a list.

Dates are the server's calendar days (TIME_ZONE): the throughput of the last
FORECAST_HISTORY_WEEKS weeks up to yesterday (today is not over yet), counted from the day
the board's first card was done when that is later (before it the team's first cards were
still on their way: those empty days measure the board's start, not its rate), and
forecasts start today.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from . import forecast as fc
from .models import (
    Board,
    BoardForecastRun,
    Card,
    CardForecast,
    CardIncident,
    Column,
    ColumnCategory,
    Lane,
    LaneKind,
)

OPEN_CATEGORIES = (ColumnCategory.BACKLOG, ColumnCategory.READY, ColumnCategory.IN_PROGRESS)


def forecast_settings(*, seed: int = 0) -> fc.Settings:
    """The forecast's knobs from the settings (FORECAST_*); `seed`: the board's id, so one
    board's forecast is the same on every computation of the same state."""
    return fc.Settings(
        trials=int(getattr(settings, "FORECAST_TRIALS", fc.DEFAULT_TRIALS)),
        min_done=int(getattr(settings, "FORECAST_MIN_DONE", fc.DEFAULT_MIN_DONE)),
        min_days=int(getattr(settings, "FORECAST_MIN_DAYS", fc.DEFAULT_MIN_DAYS)),
        seed=seed,
    )


def history_weeks() -> int:
    return int(getattr(settings, "FORECAST_HISTORY_WEEKS", 8))


def history_window(*, today: date, first_day: date | None, weeks: int) -> tuple[date, date]:
    """The calendar days the throughput is measured over: the last `weeks` weeks before
    `today` (today excluded: it is not over), not before `first_day`, the day the board's
    first card was done."""
    first = today - timedelta(days=7 * weeks)
    if first_day is not None and first_day > first:
        first = first_day
    return first, today - timedelta(days=1)


# ------------------------------------------------------------------ the result
@dataclass(frozen=True)
class ReleaseRef:
    id: int
    name: str
    planned_for: date | None
    deployed_at: datetime | None


@dataclass(frozen=True)
class FixForecast:
    """A card's fix forecast, as the APIs and pages show it.

    `status`: "ok" (p50 and p85 set), "insufficient_history" (too few cards of the lane
    class done in the window: no dates, on purpose), "beyond_horizon" (p85 more than two
    years away). `release`: the card's release when it has one (its planned date is when
    the fix reaches production if the team ships by release)."""

    card_id: int
    card_key: str
    board_id: int
    status: str
    p50: date | None
    p85: date | None
    start: date
    lane_kind: str
    cards_ahead: int
    work: float
    history_days: int
    history_done: int
    history_weeks: int
    trials: int
    release: ReleaseRef | None
    open_cards: int = 1

    @property
    def insufficient_history(self) -> bool:
        return self.status == "insufficient_history"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        """The API's `fix_forecast` object (dates as ISO strings)."""
        release = self.release
        return {
            "p50": self.p50.isoformat() if self.p50 else None,
            "p85": self.p85.isoformat() if self.p85 else None,
            "card": self.card_id,
            "card_key": self.card_key,
            "board": self.board_id,
            "status": self.status,
            "insufficient_history": self.insufficient_history,
            "computed_on": self.start.isoformat(),
            "lane_class": self.lane_kind,
            "cards_ahead": self.cards_ahead,
            "history_weeks": self.history_weeks,
            "history_done": self.history_done,
            "open_cards": self.open_cards,
            "release": None
            if release is None
            else {
                "id": release.id,
                "name": release.name,
                "planned_for": release.planned_for.isoformat() if release.planned_for else None,
                "deployed": release.deployed_at is not None,
            },
        }


def _from_row(row: CardForecast, card: Card, *, open_cards: int = 1) -> FixForecast:
    release = card.release if card.release_id else None
    return FixForecast(
        card_id=card.pk,
        card_key=card.key,
        board_id=card.board_id,
        status=row.status,
        p50=row.p50,
        p85=row.p85,
        start=row.start,
        lane_kind=row.lane_kind,
        cards_ahead=row.cards_ahead,
        work=row.work,
        history_days=row.history_days,
        history_done=row.history_done,
        history_weeks=history_weeks(),
        trials=row.trials,
        release=None
        if release is None
        else ReleaseRef(release.pk, release.name, release.planned_for, release.deployed_at),
        open_cards=open_cards,
    )


# ------------------------------------------------------------------ versions and refresh
def _version(n: int, last: datetime | None, today: date) -> str:
    s = forecast_settings()
    stamp = last.timestamp() if last else 0
    return f"{n}-{stamp:.6f}@{today.isoformat()}/{history_weeks()}w{s.trials}t{s.min_done}d{s.min_days}"


def stale_boards(board_ids: Iterable[int], *, today: date | None = None) -> list[int]:
    """The boards whose stored forecasts no longer match their cards (or the day): one query."""
    ids = sorted(set(board_ids))
    if not ids:
        return []
    today = today or timezone.localdate()
    rows = (
        Board.objects.filter(pk__in=ids)
        .annotate(n=Count("cards"), last=Max("cards__updated_at"))
        .values_list("pk", "n", "last", "forecast_run__version")
    )
    return [pk for pk, n, last, stamp in rows if stamp != _version(n, last, today)]


def ensure_fresh(board_ids: Iterable[int], *, today: date | None = None) -> list[int]:
    """Recompute the boards whose forecasts are stale; the ids recomputed."""
    stale = stale_boards(board_ids, today=today)
    for board_id in stale:
        board_forecasts_refresh(board_id, today=today)
    return stale


def board_inputs(
    board_id: int, *, today: date, weeks: int
) -> tuple[dict[str, list[fc.QueueCard]], dict[str, fc.History]]:
    """The pure module's inputs for one board, per lane class: its open cards where they
    stand, and the cards done per day of the window. Four queries for any number of cards."""
    columns = {
        pk: (position, category)
        for pk, position, category in Column.objects.filter(board_id=board_id).values_list(
            "pk", "position", "category"
        )
    }
    lanes = dict(Lane.objects.filter(board_id=board_id).values_list("pk", "kind"))
    queues: dict[str, list[fc.QueueCard]] = {kind: [] for kind in LaneKind.values}
    for pk, column_id, lane_id, rank in Card.objects.filter(
        board_id=board_id, cancelled_at__isnull=True, column__category__in=OPEN_CATEGORIES
    ).values_list("pk", "column_id", "lane_id", "rank"):
        position, category = columns[column_id]
        queues[lanes[lane_id]].append(
            fc.QueueCard(pk, position, category == ColumnCategory.IN_PROGRESS, rank)
        )
    first_done = Card.objects.filter(board_id=board_id, cancelled_at__isnull=True).aggregate(
        first=Min("done_at")
    )["first"]
    first_day = timezone.localdate(first_done) if first_done else None
    first, last = history_window(today=today, first_day=first_day, weeks=weeks)
    tz = timezone.get_current_timezone()
    done = Card.objects.filter(
        board_id=board_id,
        cancelled_at__isnull=True,
        done_at__gte=datetime.combine(min(first, today), datetime.min.time(), tzinfo=tz),
        done_at__lt=datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=tz),
    ).values_list("lane__kind", "done_at")
    done_days: dict[str, list[date]] = {kind: [] for kind in LaneKind.values}
    for kind, done_at in done:
        done_days[kind].append(timezone.localdate(done_at))
    histories = {
        kind: fc.daily_counts(days, first=first, last=last, done_today=days.count(today))
        for kind, days in done_days.items()
    }
    return queues, histories


def _cached_curves(
    stored: Mapping[str, Any], kind: str, history: fc.History, knobs: fc.Settings
) -> fc.Curves | None:
    """The stored curves of a lane class when they came from this very history and these
    settings (the simulation is a function of them: reusing is exact)."""
    entry = stored.get(kind)
    if not entry or entry.get("key") != _curves_key(history, knobs):
        return None
    return fc.Curves(p50=tuple(entry["p50"]), p85=tuple(entry["p85"]), horizon=int(entry["horizon"]))


def _curves_key(history: fc.History, knobs: fc.Settings) -> list[Any]:
    return [
        list(history.daily_done),
        knobs.trials,
        knobs.seed,
        knobs.horizon_days,
    ]


_ROW_FIELDS = (
    "card_id", "board_id", "status", "p50", "p85", "start", "lane_kind", "cards_ahead", "work",
    "history_days", "history_done", "trials",
)  # fmt: skip
_SQL_TYPES = ("bigint", "bigint", "text", "date", "date", "date", "text", "integer", "float8", "integer",
              "integer", "integer")  # fmt: skip


def _store(rows: list[tuple[Any, ...]]) -> None:
    """Upsert the board's forecast rows: on PostgreSQL one INSERT over unnest()ed arrays
    that skips unchanged rows (a move re-places thousands of cards; the ORM's per-value
    compilation costs more than the simulation), elsewhere the ORM's bulk upsert."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = CardForecast._meta.db_table
        columns = ", ".join(_ROW_FIELDS)
        arrays = ", ".join(f"%s::{t}[]" for t in _SQL_TYPES)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _ROW_FIELDS[1:])
        changed = " OR ".join(f"{table}.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in _ROW_FIELDS[1:])
        # Only code constants are interpolated; the values travel as array parameters.
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) "  # noqa: S608
            f"ON CONFLICT (card_id) DO UPDATE SET {updates} WHERE {changed}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [_array_literal(col) for col in zip(*rows, strict=True)])
        return
    CardForecast.objects.bulk_create(
        [CardForecast(**dict(zip(_ROW_FIELDS, row, strict=True))) for row in rows],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["card"],
        update_fields=[f.removesuffix("_id") for f in _ROW_FIELDS[1:]],
    )


def _array_literal(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal ('{1,2,NULL}') of ints, floats, dates or plain words: one
    constant for the server to parse, where a list parameter becomes one cast expression
    per element (48,000 of them at 4,000 cards took a second to plan)."""
    items = ("NULL" if v is None else v.isoformat() if isinstance(v, date) else str(v) for v in values)
    return "{" + ",".join(items) + "}"


@transaction.atomic
def board_forecasts_refresh(board_id: int, *, today: date | None = None) -> BoardForecastRun:
    """Forecast every open card of the board in one pass and store the results, stamped
    with the board's version as read before its cards (a move meanwhile leaves the stamp
    behind, so the next read recomputes). The simulation runs again only when a lane
    class's history (or the day) changed; a move alone re-places the cards on the kept
    percentile curves."""
    started = time.perf_counter()
    today = today or timezone.localdate()
    agg = Card.objects.filter(board_id=board_id).aggregate(n=Count("id"), last=Max("updated_at"))
    version = _version(agg["n"], agg["last"], today)
    weeks = history_weeks()
    queues, histories = board_inputs(board_id, today=today, weeks=weeks)
    knobs = forecast_settings(seed=board_id)
    previous = (
        BoardForecastRun.objects.filter(board_id=board_id).values_list("curves", flat=True).first() or {}
    )
    rows: list[tuple[Any, ...]] = []
    curves: dict[str, Any] = {}
    for kind, queue in queues.items():
        history = histories[kind]
        forecasts, used = fc.forecast_queue_curves(
            queue, history, start=today, settings=knobs, curves=_cached_curves(previous, kind, history, knobs)
        )
        if used is not None:
            curves[kind] = {
                "key": _curves_key(history, knobs), "p50": list(used.p50), "p85": list(used.p85),
                "horizon": used.horizon,
            }  # fmt: skip
        rows += [
            (card_id, board_id, f.status, f.p50, f.p85, today, kind, f.cards_ahead, f.work, f.history_days,
             f.history_done, f.trials)
            for card_id, f in forecasts.items()
        ]  # fmt: skip
    _store(rows)
    open_cards = Card.objects.filter(
        board_id=board_id, cancelled_at__isnull=True, column__category__in=OPEN_CATEGORIES
    )
    CardForecast.objects.filter(board_id=board_id).exclude(card__in=open_cards).delete()
    run, _ = BoardForecastRun.objects.update_or_create(
        board_id=board_id,
        defaults={
            "version": version,
            "computed_at": timezone.now(),
            "duration_ms": int((time.perf_counter() - started) * 1000),
            "cards": len(rows),
            "curves": curves,
        },
    )
    return run


# ------------------------------------------------------------------ reads
def card_fix_forecasts(card_ids: Iterable[int], *, today: date | None = None) -> dict[int, FixForecast]:
    """Forecasts of open cards by card id (done or cancelled cards have none): fresh
    boards cost two queries for any number of cards."""
    ids = sorted(set(card_ids))
    if not ids:
        return {}
    cards = list(Card.objects.filter(pk__in=ids).select_related("forecast", "release"))
    if ensure_fresh({c.board_id for c in cards}, today=today):
        cards = list(Card.objects.filter(pk__in=ids).select_related("forecast", "release"))
    result = {}
    for card in cards:
        if _has_forecast(card):
            result[card.pk] = _from_row(card.forecast, card)
    return result


def _has_forecast(card: Card) -> bool:
    try:
        card.forecast  # noqa: B018 - the reverse one-to-one raises when there is none
    except CardForecast.DoesNotExist:
        return False
    return True


def _limiting(forecasts: list[FixForecast]) -> FixForecast:
    """Of an incident's open cards, the one its fix waits for longest: a card that cannot be
    forecast first (the fix cannot be promised before it), then the latest p85."""

    def key(f: FixForecast) -> tuple[int, date, date, int]:
        if not f.ok:
            return (1, date.max, date.max, -f.card_id)
        return (0, f.p85 or date.max, f.p50 or date.max, -f.card_id)

    return max(forecasts, key=key)


def incident_fix_forecasts(
    incident_ids: Iterable[int], *, today: date | None = None
) -> dict[int, FixForecast | None]:
    """The fix forecast of each incident, by incident id: of its linked open cards, the one
    the fix waits for longest (None when no linked card is open). Two queries for any number
    of incidents while the boards' stored forecasts are fresh."""
    ids = sorted(set(incident_ids))
    result: dict[int, FixForecast | None] = dict.fromkeys(ids)
    if not ids:
        return result

    def links() -> list[CardIncident]:
        return list(
            CardIncident.objects.filter(
                incident_id__in=ids,
                card__cancelled_at__isnull=True,
                card__column__category__in=OPEN_CATEGORIES,
            ).select_related("card__forecast", "card__release")
        )

    found = links()
    if ensure_fresh({link.card.board_id for link in found}, today=today):
        found = links()
    per_incident: dict[int, list[FixForecast]] = {}
    for link in found:
        if _has_forecast(link.card):
            per_incident.setdefault(link.incident_id, []).append(_from_row(link.card.forecast, link.card))
    for incident_id, forecasts in per_incident.items():
        result[incident_id] = replace(_limiting(forecasts), open_cards=len(forecasts))
    return result


def forecasts_as_dicts(forecasts: Mapping[int, FixForecast | None]) -> dict[int, dict[str, Any] | None]:
    return {pk: (f.as_dict() if f is not None else None) for pk, f in forecasts.items()}


__all__ = [
    "FixForecast",
    "ReleaseRef",
    "board_forecasts_refresh",
    "card_fix_forecasts",
    "ensure_fresh",
    "incident_fix_forecasts",
    "stale_boards",
]
