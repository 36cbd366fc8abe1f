"""The fix forecast's inputs and cache: boards.forecast does the arithmetic, this module
gathers its inputs from the board, keeps what is worth keeping and answers the reads.

A card's forecast is its lane class's percentile curves read at its place in the class's
queue: the curves say, day by day, how much work 50 % and 85 % of the simulated futures have
finished, and a card with n cards ahead is done by the first day they reach n + 1. So only
the curves are kept, per board and lane class, in BoardForecastRun (with the history they
came from and the day); the places are read at read time, in the same query that reads the
cards (a window over the board's open cards), so a move costs the forecast nothing and is
never shown a stale place. The curves depend only on the cards done (and the day): the
stamp is the board's done cards (their number and last change), the day and the settings,
and a read whose stamp no longer matches recomputes the curves once, before answering (a
card done today only shifts where the others are read off: History.done_today).

Every read costs two queries for any number of cards or incidents while the stamp matches:
the cards with their places, and the boards' stamps with their curves.

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
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from . import forecast as fc
from .models import (
    Board,
    BoardForecastRun,
    Card,
    CardIncident,
    Column,
    ColumnCategory,
    Lane,
    LaneKind,
    Release,
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


# ------------------------------------------------------------------ versions and refresh
def _version(n: int, last: datetime | None, today: date) -> str:
    """The stamp of what the curves depend on: the board's done cards (how many, their last
    change), the day and the settings. Moves of open cards leave it alone."""
    s = forecast_settings()
    stamp = last.timestamp() if last else 0
    return f"done{n}-{stamp:.6f}@{today.isoformat()}/{history_weeks()}w{s.trials}t{s.min_done}d{s.min_days}"


def _runs(board_ids: Iterable[int], *, today: date) -> dict[int, tuple[bool, dict[str, Any]]]:
    """Per board: whether its kept curves are fresh, and the kept curves. One query."""
    ids = sorted(set(board_ids))
    if not ids:
        return {}
    done = Card.objects.filter(board=OuterRef("pk"), done_at__isnull=False).order_by().values("board")
    rows = (
        Board.objects.filter(pk__in=ids)
        .annotate(
            # subqueries, not a GROUP BY: the grouping would carry the curves along
            n=Subquery(done.annotate(n=Count("id")).values("n")),
            last=Subquery(done.annotate(last=Max("updated_at")).values("last")),
        )
        .values_list("pk", "n", "last", "forecast_run__version", "forecast_run__curves")
    )
    return {pk: (stamp == _version(n or 0, last, today), curves or {}) for pk, n, last, stamp, curves in rows}


def stale_boards(board_ids: Iterable[int], *, today: date | None = None) -> list[int]:
    """The boards whose kept curves no longer match their done cards (or the day): one query."""
    runs = _runs(board_ids, today=today or timezone.localdate())
    return [pk for pk, (fresh, _curves) in runs.items() if not fresh]


def ensure_fresh(board_ids: Iterable[int], *, today: date | None = None) -> list[int]:
    """Recompute the boards whose curves are stale; the ids recomputed."""
    stale = stale_boards(board_ids, today=today)
    for board_id in stale:
        board_forecasts_refresh(board_id, today=today)
    return stale


def board_inputs(
    board_id: int, *, today: date, weeks: int
) -> tuple[dict[str, list[fc.QueueCard]], dict[str, fc.History]]:
    """The pure module's inputs for one board, per lane class: its open cards where they
    stand, and the cards done per day of the window (the backtest and tests use it; the
    cache needs only the histories and the queues' lengths)."""
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
    return queues, board_histories(board_id, today=today, weeks=weeks)


def board_histories(board_id: int, *, today: date, weeks: int) -> dict[str, fc.History]:
    """Per lane class, the cards done per day of the window and those done today. Two queries."""
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
    return {
        kind: fc.daily_counts(days, first=first, last=last, done_today=days.count(today))
        for kind, days in done_days.items()
    }


def _cached_curves(
    stored: Mapping[str, Any], kind: str, history: fc.History, knobs: fc.Settings
) -> fc.Curves | None:
    """The stored curves of a lane class when they came from this very history and these
    settings (the simulation is a function of them: reusing is exact)."""
    entry = stored.get(kind)
    if not entry or entry.get("key") != _curves_key(history, knobs) or "p50" not in entry:
        return None
    return _curves_of(entry)


def _curves_of(entry: Mapping[str, Any]) -> fc.Curves:
    return fc.Curves(p50=tuple(entry["p50"]), p85=tuple(entry["p85"]), horizon=int(entry["horizon"]))


def _curves_key(history: fc.History, knobs: fc.Settings) -> list[Any]:
    return [list(history.daily_done), knobs.trials, knobs.seed, knobs.horizon_days]


def _top(open_cards: int, history: fc.History, at_least: float) -> float:
    """How much work the curves are simulated to cover: the class's open cards with room for
    a quarter more (a few new cards do not need a new simulation), or `at_least`."""
    return max(open_cards * 1.25 + 10, at_least) + history.done_today


@transaction.atomic
def board_forecasts_refresh(
    board_id: int, *, today: date | None = None, at_least: float = 0.0
) -> BoardForecastRun:
    """Recompute the board's kept curves and stamp them with its done cards as read before
    them (a card done meanwhile leaves the stamp behind, so the next read recomputes). The
    simulation runs again only when a lane class's history changed or its curves fall
    short of the work; otherwise only the stamp and today's done count are written.
    `at_least`: the work (in cards) the curves must cover."""
    started = time.perf_counter()
    today = today or timezone.localdate()
    done = Q(done_at__isnull=False)
    agg = Card.objects.filter(board_id=board_id).aggregate(
        n=Count("id", filter=done), last=Max("updated_at", filter=done)
    )
    version = _version(agg["n"], agg["last"], today)
    histories = board_histories(board_id, today=today, weeks=history_weeks())
    open_counts = dict(
        Card.objects.filter(
            board_id=board_id, cancelled_at__isnull=True, column__category__in=OPEN_CATEGORIES
        )
        .values_list("lane__kind")
        .annotate(n=Count("id"))
        .values_list("lane__kind", "n")
    )
    knobs = forecast_settings(seed=board_id)
    previous = (
        BoardForecastRun.objects.filter(board_id=board_id).values_list("curves", flat=True).first() or {}
    )
    curves: dict[str, Any] = {}
    for kind, history in histories.items():
        entry: dict[str, Any] = {
            "key": _curves_key(history, knobs), "history_days": history.days,
            "history_done": history.done, "done_today": history.done_today, "trials": knobs.trials,
            "sufficient": fc.history_sufficient(history, min_done=knobs.min_done, min_days=knobs.min_days),
        }  # fmt: skip
        if entry["sufficient"]:
            used = fc.percentile_curves(
                history,
                settings=knobs,
                top=_top(open_counts.get(kind, 0), history, at_least),
                cached=_cached_curves(previous, kind, history, knobs),
            )
            entry.update(p50=list(used.p50), p85=list(used.p85), horizon=used.horizon)
        curves[kind] = entry
    run, _ = BoardForecastRun.objects.update_or_create(
        board_id=board_id,
        defaults={
            "version": version,
            "computed_at": timezone.now(),
            "duration_ms": int((time.perf_counter() - started) * 1000),
            "cards": sum(open_counts.values()),
            "curves": curves,
        },
    )
    return run


# ------------------------------------------------------------------ reads
@dataclass(frozen=True)
class _Place:
    """An open card where it stands in its lane class's queue (read with its release)."""

    card_id: int
    key: str
    board_id: int
    kind: str
    ahead: int
    release: ReleaseRef | None
    incident_id: int | None = None


def _places(*, card_ids: list[int] | None = None, incident_ids: list[int] | None = None) -> list[_Place]:
    """The open cards asked for (by id, or linked to the incidents), each with the number of
    open cards of its lane class ahead of it (boards.forecast.queue_order: later columns
    first, then rank, then id): one query, a window over their boards' open cards."""
    card = Card._meta.db_table
    column = Column._meta.db_table
    lane = Lane._meta.db_table
    release = Release._meta.db_table
    link = CardIncident._meta.db_table
    ids = card_ids if card_ids is not None else incident_ids or []
    marks = ", ".join(["%s"] * len(ids))
    categories = ", ".join(["%s"] * len(OPEN_CATEGORIES))
    if card_ids is not None:
        wanted = f"SELECT id FROM {card} WHERE id IN ({marks})"  # noqa: S608 - table names only
        join, incident = "", "NULL"
    else:
        wanted = f"SELECT card_id FROM {link} WHERE incident_id IN ({marks})"  # noqa: S608
        join = f"JOIN {link} li ON li.card_id = q.id AND li.incident_id IN ({marks})"
        incident = "li.incident_id"
    # The lane class as a number: sorting integers is much cheaper than collating text.
    kind_number = (
        "CASE l.kind " + " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(LaneKind.values)) + " END"
    )
    # Only code constants are interpolated; every value is a parameter.
    sql = f"""
        SELECT q.id, q.key, q.board_id, q.kind, q.ahead,
               r.id, r.name, r.planned_for, r.deployed_at, {incident}
        FROM (
            SELECT c.id, c.key, c.board_id, c.release_id, l.kind,
                   ROW_NUMBER() OVER (
                       PARTITION BY c.board_id, {kind_number} ORDER BY col.position DESC, c.rank, c.id
                   ) - 1 AS ahead
            FROM {card} c
            JOIN {column} col ON col.id = c.column_id
            JOIN {lane} l ON l.id = c.lane_id
            WHERE c.board_id IN (SELECT board_id FROM {card} WHERE id IN ({wanted}))
              AND c.cancelled_at IS NULL AND col.category IN ({categories})
        ) q
        {join}
        LEFT JOIN {release} r ON r.id = q.release_id
        WHERE q.id IN ({wanted})
    """  # noqa: S608
    params: list[Any] = [*ids, *OPEN_CATEGORIES]
    if card_ids is None:
        params += ids
    params += ids
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    places = []
    for pk, key, board_id, kind, ahead, rel_id, rel_name, planned, deployed, incident_id in rows:
        ref = None
        if rel_id is not None:
            ref = ReleaseRef(rel_id, rel_name, _as_date(planned), _as_datetime(deployed))
        places.append(_Place(pk, key, board_id, kind, int(ahead), ref, incident_id))
    return places


def _as_date(value: Any) -> date | None:
    """A raw row's date (SQLite returns text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _as_datetime(value: Any) -> datetime | None:
    """A raw row's instant (SQLite returns it naive, in UTC, or as text)."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _forecasts(places: list[_Place], *, today: date | None) -> dict[_Place, FixForecast]:
    """Each place's forecast off its board's kept curves, recomputing the boards whose curves
    are stale (or fall short of a card's work) first. One query while they are fresh."""
    if not places:
        return {}
    today = today or timezone.localdate()
    runs = _runs({p.board_id for p in places}, today=today)
    curves: dict[int, dict[str, Any]] = {}
    for board_id, (fresh, kept) in runs.items():
        curves[board_id] = kept if fresh else board_forecasts_refresh(board_id, today=today).curves
    result = {}
    # A board's lane class is read for each of its cards: its curves are built once.
    built: dict[int, tuple[Mapping[str, Any], fc.Curves]] = {}

    def curves_of(entry: Mapping[str, Any]) -> fc.Curves:
        kept = built.get(id(entry))
        if kept is None or kept[0] is not entry:
            kept = built[id(entry)] = (entry, _curves_of(entry))
        return kept[1]

    for place in places:
        entry = curves[place.board_id].get(place.kind)
        work = float(place.ahead + 1)
        if entry and entry["sufficient"]:
            spent = work + entry["done_today"]
            if not curves_of(entry).covers(spent):
                curves[place.board_id] = board_forecasts_refresh(
                    place.board_id, today=today, at_least=work
                ).curves
                entry = curves[place.board_id][place.kind]
        result[place] = _forecast_of(
            place,
            entry,
            work=work,
            today=today,
            curves=curves_of(entry) if entry and entry["sufficient"] else None,
        )
    return result


def _forecast_of(
    place: _Place,
    entry: Mapping[str, Any] | None,
    *,
    work: float,
    today: date,
    curves: fc.Curves | None = None,
) -> FixForecast:
    entry = entry or {"sufficient": False, "history_days": 0, "history_done": 0, "done_today": 0}
    status, p50, p85, trials = "insufficient_history", None, None, 0
    if entry["sufficient"]:
        curves = curves or _curves_of(entry)
        d50, d85 = curves.days(work + entry["done_today"])
        status = "ok" if d85 < curves.horizon else "beyond_horizon"
        p50 = today + timedelta(days=d50) if d50 < curves.horizon else None
        p85 = today + timedelta(days=d85) if d85 < curves.horizon else None
        trials = int(entry["trials"])
    return FixForecast(
        card_id=place.card_id,
        card_key=place.key,
        board_id=place.board_id,
        status=status,
        p50=p50,
        p85=p85,
        start=today,
        lane_kind=place.kind,
        cards_ahead=place.ahead,
        work=work,
        history_days=int(entry["history_days"]),
        history_done=int(entry["history_done"]),
        history_weeks=history_weeks(),
        trials=trials,
        release=place.release,
    )


def card_fix_forecasts(card_ids: Iterable[int], *, today: date | None = None) -> dict[int, FixForecast]:
    """Forecasts of open cards by card id (done or cancelled cards have none): two queries
    for any number of cards while their boards' curves are fresh."""
    ids = sorted(set(card_ids))
    if not ids:
        return {}
    return {place.card_id: f for place, f in _forecasts(_places(card_ids=ids), today=today).items()}


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
    of incidents while the boards' curves are fresh."""
    ids = sorted(set(incident_ids))
    result: dict[int, FixForecast | None] = dict.fromkeys(ids)
    if not ids:
        return result
    per_incident: dict[int, list[FixForecast]] = {}
    for place, forecast in _forecasts(_places(incident_ids=ids), today=today).items():
        assert place.incident_id is not None
        per_incident.setdefault(place.incident_id, []).append(forecast)
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
