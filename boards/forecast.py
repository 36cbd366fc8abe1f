"""The fix forecast: when will a card be done? A pure Monte Carlo module (no ORM, no clock).

Inputs are plain values the boards selectors gather (boards.forecasting):

- `History`: how many cards of one lane class (expedite or standard) reached done on each
  calendar day of the last N weeks, oldest first, zero days included. Calendar days, not
  working days: teams finish nothing at weekends, so weekend zeros are part of the
  measured rate, and a forecast in calendar days needs no team calendar to be honest.
- The queue of the lane class: its open cards, each with its column's position, whether
  that column is in progress, and its rank in its cell.

The model (after Vacanti's and Magennis's throughput forecasting): the team finishes the
class's cards roughly in flow order, so a card is done once the class's throughput has
covered the cards ahead of it plus itself. Ahead of a card are the open cards of its class
in later columns (nearer done), then those in its own column ranked above it. Work is
counted in whole cards, wherever they stand: throughput counts departures, and a card half
done still departs as one card, so a card in ready behind k cards in progress waits for k
departures before its own (counting those k as half a card each made a FIFO board's
forecast early by k/2 cards: backtested, its 85 % date was met two times in three). The same
card in progress is never later than in ready: no more cards are ahead of it (ready's cards
and the in-progress cards ranked below it no longer are).

Each trial draws one past day's throughput (with replacement) for every future day,
starting on the start date itself, and the card's done date in that trial is the first day
on which the cumulative throughput reaches its work. The start day is partly over when the
forecast is made: the cards already done that day (`History.done_today`) have left the
queue but used up part of that day's throughput, so they are added to every card's work
(counting a whole day again put a forecast made after the day's work a day early). The
curves do not depend on them, so a card reaching done only shifts where the others are
read off the kept curves. The 50th and 85th percentiles of those
dates over the trials are the forecast. Every trial draws its days from its own seeded
stream, independently of the work asked about, so with one seed more work ahead can never
give an earlier date (the trials are the same futures, only waited on longer), and the
same inputs always give the same forecast.

Too little history (fewer than `min_done` finished cards, or fewer than `min_days` days
measured) gives `insufficient_history` instead of a guess; a card not done within
`horizon_days` in more than 15 % (or 50 %) of the trials has no p85 (p50) date
(`beyond_horizon`).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate, islice
from typing import Literal

DEFAULT_TRIALS = 1000
DEFAULT_MIN_DONE = 5
DEFAULT_MIN_DAYS = 14
DEFAULT_HORIZON_DAYS = 730
PERCENTILES = (50, 85)
# Days are drawn in blocks per trial (one random() per day whatever the block: the values
# do not depend on it); a short block keeps a short queue's simulation short.
_BLOCK = 16

Status = Literal["ok", "insufficient_history", "beyond_horizon"]


@dataclass(frozen=True)
class History:
    """Cards of one lane class done per calendar day, oldest day first (zeros included);
    `done_today`: those already done on the start day, before the forecast is made."""

    daily_done: tuple[int, ...]
    done_today: int = 0

    @property
    def days(self) -> int:
        return len(self.daily_done)

    @property
    def done(self) -> int:
        return sum(self.daily_done)


@dataclass(frozen=True)
class QueueCard:
    """An open card of the lane class, where it stands."""

    card_id: int
    column_position: int
    in_progress: bool
    rank: int


@dataclass(frozen=True)
class Forecast:
    """When a card is likely done: p50 and p85 dates (None: not forecast, see `status`)."""

    status: Status
    p50: date | None
    p85: date | None
    cards_ahead: int
    work: float  # the work to cover, in cards: the cards ahead and the card itself
    history_days: int
    history_done: int
    trials: int

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class Settings:
    trials: int = DEFAULT_TRIALS
    min_done: int = DEFAULT_MIN_DONE
    min_days: int = DEFAULT_MIN_DAYS
    horizon_days: int = DEFAULT_HORIZON_DAYS
    seed: int = 0


def queue_order(cards: Iterable[QueueCard]) -> list[QueueCard]:
    """The class's open cards in the order they are expected to finish: later columns
    first, then by rank within a column (then by id, as the board shows them)."""
    return sorted(cards, key=lambda c: (-c.column_position, c.rank, c.card_id))


def history_sufficient(history: History, *, min_done: int, min_days: int) -> bool:
    return history.done >= min_done and history.days >= min_days


class _Trials:
    """The simulated futures: per trial, the cumulative throughput by day (index 0: the
    start date), drawn in blocks from the trial's own seeded stream, so a trial's days never
    depend on the work asked about."""

    def __init__(self, samples: Sequence[int], *, trials: int, seed: int, horizon_days: int) -> None:
        self.samples = list(samples)
        self.horizon = horizon_days
        self.rngs = [random.Random(f"{seed}:{t}") for t in range(trials)]  # noqa: S311 - a simulation
        self.cumulative: list[list[int]] = [[] for _ in range(trials)]

    def _extend(self) -> None:
        size = len(self.cumulative[0])
        k = min(_BLOCK, self.horizon - size)
        for rng, cum in zip(self.rngs, self.cumulative, strict=True):
            draws = rng.choices(self.samples, k=k)
            cum.extend(islice(accumulate(draws, initial=cum[-1] if cum else 0), 1, None))

    def curves(self, top: float) -> Curves:
        """The p50 and p85 curves, day by day until the p85 curve reaches `top` (or the
        horizon).

        A trial covers work w by day d exactly when its cumulative throughput on day d is at
        least w, so the nearest-rank p-th percentile of the days is the first day whose k-th
        largest cumulative throughput (k = ceil(p/100 * trials)) reaches w. Those order
        statistics never fall from one day to the next: one sorted curve per percentile,
        searched by bisection, answers every card of the queue at once."""
        trials = len(self.rngs)
        ks = [max(1, math.ceil(p * trials / 100)) for p in PERCENTILES]
        curves: list[list[int]] = [[] for _ in PERCENTILES]
        day = 0
        while day < self.horizon:
            if day >= len(self.cumulative[0]):
                self._extend()
            column = sorted([cum[day] for cum in self.cumulative])
            for curve, k in zip(curves, ks, strict=True):
                curve.append(column[trials - k])
            day += 1
            if curves[-1][-1] >= top:
                break
        return Curves(p50=tuple(curves[0]), p85=tuple(curves[1]), horizon=self.horizon)


@dataclass(frozen=True)
class Curves:
    """Per day from the start (index 0), the cumulative throughput reached by 50 % and by
    85 % of the simulated futures: a card whose work is w is done by the first day its
    curve reaches w. A deterministic function of the history, the settings and the seed,
    so a caller may keep them while those are unchanged (boards.forecasting does) and only
    the cards' places change; extending them for more work keeps every earlier day."""

    p50: tuple[int, ...]
    p85: tuple[int, ...]
    horizon: int

    def covers(self, work: float) -> bool:
        return len(self.p85) >= self.horizon or (bool(self.p85) and self.p85[-1] >= work)

    def days(self, work: float) -> tuple[int, int]:
        """The (p50, p85) day index by which `work` is done; `horizon` when not within it."""
        return bisect_left(self.p50, work), bisect_left(self.p85, work)


def percentile_curves(
    history: History, *, settings: Settings, top: float, cached: Curves | None = None
) -> Curves:
    """The curves covering `top` cards of work: `cached` when it already does (the caller
    vouches it was computed from the same history and settings), else simulated."""
    if cached is not None and cached.horizon == settings.horizon_days and cached.covers(top):
        return cached
    sim = _Trials(
        history.daily_done, trials=settings.trials, seed=settings.seed, horizon_days=settings.horizon_days
    )
    return sim.curves(top)


def _forecast(
    days: tuple[int, int], *, start: date, settings: Settings, history: History, cards_ahead: int, work: float
) -> Forecast:
    p50, p85 = days
    beyond = settings.horizon_days
    return Forecast(
        status="ok" if p85 < beyond else "beyond_horizon",
        p50=start + timedelta(days=p50) if p50 < beyond else None,
        p85=start + timedelta(days=p85) if p85 < beyond else None,
        cards_ahead=cards_ahead,
        work=work,
        history_days=history.days,
        history_done=history.done,
        trials=settings.trials,
    )


def _insufficient(history: History, *, cards_ahead: int, work: float) -> Forecast:
    return Forecast(
        status="insufficient_history",
        p50=None,
        p85=None,
        cards_ahead=cards_ahead,
        work=work,
        history_days=history.days,
        history_done=history.done,
        trials=0,
    )


def forecast_queue(
    cards: Iterable[QueueCard],
    history: History,
    *,
    start: date,
    settings: Settings | None = None,
    curves: Curves | None = None,
) -> dict[int, Forecast]:
    """The forecast of every card of one lane class's queue, by card id, from one set of
    simulated futures (so a card never forecasts earlier than one ahead of it). `curves`:
    percentile curves of this history and settings kept from an earlier run, if any."""
    return forecast_queue_curves(cards, history, start=start, settings=settings, curves=curves)[0]


def forecast_queue_curves(
    cards: Iterable[QueueCard],
    history: History,
    *,
    start: date,
    settings: Settings | None = None,
    curves: Curves | None = None,
) -> tuple[dict[int, Forecast], Curves | None]:
    """forecast_queue, and the curves it used (None when the history is too short)."""
    settings = settings or Settings()
    ordered = queue_order(cards)
    works = [float(i + 1) for i in range(len(ordered))]  # the cards ahead and the card itself
    if not history_sufficient(history, min_done=settings.min_done, min_days=settings.min_days):
        insufficient = {
            c.card_id: _insufficient(history, cards_ahead=i, work=works[i]) for i, c in enumerate(ordered)
        }
        return insufficient, None
    spent = history.done_today
    used = percentile_curves(
        history, settings=settings, top=(works[-1] if works else 0.0) + spent, cached=curves
    )
    result = {
        c.card_id: _forecast(
            used.days(works[i] + spent),
            start=start,
            settings=settings,
            history=history,
            cards_ahead=i,
            work=works[i],
        )
        for i, c in enumerate(ordered)
    }
    return result, used


def forecast_work(
    work: float, history: History, *, start: date, settings: Settings | None = None, cards_ahead: int = 0
) -> Forecast:
    """The forecast for `work` cards' worth to be finished (the cards ahead and the card)."""
    settings = settings or Settings()
    if not history_sufficient(history, min_done=settings.min_done, min_days=settings.min_days):
        return _insufficient(history, cards_ahead=cards_ahead, work=work)
    curves = percentile_curves(history, settings=settings, top=work + history.done_today)
    return _forecast(
        curves.days(work + history.done_today),
        start=start,
        settings=settings,
        history=history,
        cards_ahead=cards_ahead,
        work=work,
    )


def daily_counts(done_days: Iterable[date], *, first: date, last: date, done_today: int = 0) -> History:
    """Cards done per calendar day from `first` to `last` (inclusive) from their done dates;
    dates outside are ignored. Empty when `last` is before `first`."""
    n = (last - first).days + 1
    counts = [0] * max(n, 0)
    for day in done_days:
        offset = (day - first).days
        if 0 <= offset < n:
            counts[offset] += 1
    return History(tuple(counts), done_today)
