"""Capacity arithmetic: pure functions over plain values, no database.

The vocabulary:

* working days: Monday to Friday between a sprint's first and last day, inclusive;
* focused days of a member: (working days - days off) x focus factor;
* focused hours of a member: focused days x hours per day.

Hours teams: capacity is the sum of focused hours.

Points teams ("yesterday's weather"): capacity is the points the team finished per focused
day over its last three closed sprints, times the focused days available now. A team with
no history yet is planned at one point per focused day, the usual starting guess, until
the first sprints close.

Support: with a rotation, the member on support gives their whole share of the capacity
to support work; with the shared model, the team's allocation percent is reserved.

The panel: unplanned work eats the support reserve first; what exceeds it pushes the
capacity line down, and the lowest-ranked committed cards beyond the line are at risk.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
ONE_PLACE = Decimal("0.1")
HISTORY_SPRINTS = 3


def d(value) -> Decimal:
    """Any number (or None) as a Decimal; None counts as zero."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def rounded(value: Decimal) -> Decimal:
    return d(value).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def working_days(start: date, end: date) -> int:
    """Monday to Friday from start to end, both included."""
    if end < start:
        return 0
    total = (end - start).days + 1
    full_weeks, rest = divmod(total, 7)
    days = full_weeks * 5
    for offset in range(rest):
        if (start + timedelta(days=full_weeks * 7 + offset)).weekday() < 5:
            days += 1
    return days


@dataclass(frozen=True)
class Availability:
    user_id: int
    days_off: Decimal = ZERO
    hours_per_day: Decimal = Decimal("6")
    focus_factor: Decimal = Decimal("0.8")

    def focused_days(self, days: int) -> Decimal:
        present = max(d(days) - d(self.days_off), ZERO)
        return present * d(self.focus_factor)

    def focused_hours(self, days: int) -> Decimal:
        return self.focused_days(days) * d(self.hours_per_day)


@dataclass(frozen=True)
class PastSprint:
    """A closed sprint as the velocity forecast sees it."""

    velocity: Decimal
    focused_days: Decimal


@dataclass(frozen=True)
class Capacity:
    unit: str
    capacity: Decimal
    support_reserved: Decimal
    basis: str  # "availability", "velocity" or "no_history"
    velocity_per_focused_day: Decimal | None = None
    focused_days: Decimal = ZERO

    @property
    def plannable(self) -> Decimal:
        return max(self.capacity - self.support_reserved, ZERO)


def sprint_capacity(
    *,
    unit: str,
    members: Sequence[Availability],
    days: int,
    history: Iterable[PastSprint] = (),
    support_model: str = "shared",
    allocation_percent: int | Decimal = 20,
    support_user_id: int | None = None,
) -> Capacity:
    """Capacity of one sprint and the part of it reserved for support."""
    focused_days = sum((m.focused_days(days) for m in members), ZERO)
    rate = None
    if unit == "hours":
        weights = {m.user_id: m.focused_hours(days) for m in members}
        capacity = sum(weights.values(), ZERO)
        basis = "availability"
    else:
        weights = {m.user_id: m.focused_days(days) for m in members}
        usable = [p for p in list(history)[:HISTORY_SPRINTS] if d(p.focused_days) > 0]
        if usable:
            rate = sum((d(p.velocity) for p in usable), ZERO) / sum((d(p.focused_days) for p in usable), ZERO)
            capacity = rate * focused_days
            basis = "velocity"
        else:
            capacity = focused_days
            basis = "no_history"

    total_weight = sum(weights.values(), ZERO)
    if support_model == "rotation" and support_user_id in weights and total_weight > 0:
        reserved = capacity * weights[support_user_id] / total_weight
    else:
        reserved = capacity * d(allocation_percent) / 100
    return Capacity(
        unit=unit,
        capacity=rounded(capacity),
        support_reserved=rounded(min(reserved, capacity)),
        basis=basis,
        velocity_per_focused_day=None if rate is None else rate.quantize(Decimal("0.01")),
        focused_days=rounded(focused_days),
    )


@dataclass(frozen=True)
class CardLoad:
    card_id: int
    estimate: Decimal
    backlog_rank: int
    done: bool
    planned: bool  # part of the commitment (or, before the start, simply in the sprint)


@dataclass(frozen=True)
class Panel:
    capacity: Decimal
    support_reserved: Decimal
    committed: Decimal
    planned_scope: Decimal
    unplanned: Decimal
    unplanned_by_source: dict
    completed: Decimal
    remaining: Decimal
    capacity_line: Decimal
    overcommitted_by: Decimal
    at_risk: list = field(default_factory=list)

    @property
    def support_overrun(self) -> Decimal:
        """Unplanned work beyond the reserve: what support took from the plan."""
        return max(self.unplanned - self.support_reserved, ZERO)

    @property
    def support_share(self) -> Decimal:
        """Unplanned work as a share of capacity, in percent (the support tax)."""
        if self.capacity <= 0:
            return ZERO
        return rounded(self.unplanned * 100 / self.capacity)


def capacity_panel(
    *,
    capacity: Decimal,
    support_reserved: Decimal,
    committed: Decimal,
    cards: Sequence[CardLoad],
    planned_delta: Decimal = ZERO,
    unplanned_by_source: dict | None = None,
    support_time: Decimal = ZERO,
) -> Panel:
    """The live state of a sprint against its capacity.

    `committed` is the commitment at the start; `planned_delta` the logged changes to the
    committed cards since (removals, re-estimates); `unplanned_by_source` the logged
    unplanned additions by source; `support_time` the hours logged on incidents (hours
    teams), which is unplanned work already spent.
    """
    by_source = {key: d(value) for key, value in (unplanned_by_source or {}).items()}
    if support_time:
        by_source["support_time"] = d(support_time)
    unplanned = sum(by_source.values(), ZERO)
    planned_scope = max(d(committed) + d(planned_delta), ZERO)
    done_cards = sum((d(c.estimate) for c in cards if c.done), ZERO)
    completed = done_cards + d(support_time)
    remaining = max(planned_scope + unplanned - completed, ZERO)
    line = max(d(capacity) - max(d(support_reserved), unplanned), ZERO)
    overcommitted_by = max(planned_scope - line, ZERO)

    planned = [c for c in cards if c.planned]
    budget = line - sum((d(c.estimate) for c in planned if c.done), ZERO)
    at_risk, running = [], ZERO
    for card in sorted((c for c in planned if not c.done), key=lambda c: (c.backlog_rank, c.card_id)):
        running += d(card.estimate)
        if running > budget:
            at_risk.append(card.card_id)
    return Panel(
        capacity=rounded(capacity),
        support_reserved=rounded(support_reserved),
        committed=rounded(committed),
        planned_scope=rounded(planned_scope),
        unplanned=rounded(unplanned),
        unplanned_by_source={key: rounded(value) for key, value in by_source.items()},
        completed=rounded(completed),
        remaining=rounded(remaining),
        capacity_line=rounded(line),
        overcommitted_by=rounded(overcommitted_by),
        at_risk=at_risk,
    )


def burndown(
    *,
    start: date,
    end: date,
    today: date,
    committed: Decimal,
    scope_changes: Iterable[tuple[date, Decimal]] = (),
    completions: Iterable[tuple[date, Decimal]] = (),
) -> list[dict]:
    """Remaining work at the end of each day: the ideal line falls evenly over working
    days (flat at weekends); the actual line adds scope changes and subtracts finished
    work, up to today. The first point is the start, before any work."""
    total_days = working_days(start, end)
    changes = sorted((day, d(delta)) for day, delta in scope_changes)
    done = sorted((max(day, start), d(est)) for day, est in completions)
    points = [{"day": "start", "ideal": rounded(committed), "actual": rounded(committed)}]
    worked = 0
    scope, finished, ci, di = d(committed), ZERO, 0, 0
    day = start
    while day <= end:
        if day.weekday() < 5:
            worked += 1
        ideal = d(committed) * (total_days - worked) / total_days if total_days else ZERO
        actual = None
        if day <= today:
            while ci < len(changes) and changes[ci][0] <= day:
                scope += changes[ci][1]
                ci += 1
            while di < len(done) and done[di][0] <= day:
                finished += done[di][1]
                di += 1
            actual = rounded(max(scope - finished, ZERO))
        points.append({"day": day.isoformat(), "ideal": rounded(ideal), "actual": actual})
        day += timedelta(days=1)
    return points
