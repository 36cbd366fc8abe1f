"""Business-time arithmetic: a pure module, no Django, no database.

A `Calendar` says when the clock runs: working intervals per weekday in wall-clock time of
an IANA time zone, minus holiday dates (listed, and optionally a country's public holidays
from the `holidays` library), or always (24×7).

Semantics, which the brute-force reference in the tests follows too:

* An interval ("22:00", "06:00") whose end is not after its start runs past midnight into
  the next day; "24:00" as an end means midnight. An interval belongs to the date it
  starts on: a holiday on Monday cancels Monday's night shift, including its Tuesday part.
* An instant is business time when its wall-clock time (date and time in the calendar's
  zone) lies inside a working interval. Across DST changes that is real elapsed time: a
  00:00–24:00 day lasts 23 h in spring and 25 h in autumn; wall times that do not exist
  simply never occur, repeated wall times count each time they occur.
* `add_business_seconds(cal, start, s)` is the earliest instant at which `s` seconds of
  business time have elapsed since `start`; with s == 0 it is `start` itself.

All datetimes in and out are timezone-aware; results are in UTC.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
_DAY = timedelta(days=1)
# add_business_seconds gives up when a calendar yields no working time for this long.
_MAX_SEARCH_DAYS = 366 * 20
# Farther from UTC than any zone (+14:00 … −12:00): no interval of local date d starts
# before UTC midnight of d minus this.
_MAX_OFFSET = timedelta(hours=15)


class CalendarError(ValueError):
    """A calendar description that cannot be used; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


Interval = tuple[int, int]  # minutes from the start of the day; end may exceed 1440


@dataclass(frozen=True)
class Calendar:
    timezone: str = "UTC"
    weekly: tuple[tuple[Interval, ...], ...] = field(default_factory=lambda: ((),) * 7)
    holidays: frozenset[date] = frozenset()
    country: str = ""
    subdivision: str = ""
    always_open: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# ------------------------------------------------------------------ parsing / validation
def _minutes(text: str, *, is_end: bool) -> int:
    match = _TIME_RE.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"“{text}” is not a time of day as HH:MM.")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and (minutes or not is_end):
        raise ValueError("24:00 is only allowed as the end of an interval.")
    return hours * 60 + minutes


def parse_hours(hours: object) -> tuple[tuple[Interval, ...], ...]:
    """{"mon": [["09:00", "17:00"], ...], ...} -> per-weekday merged minute intervals.

    Raises ValueError with a readable message on bad input.
    """
    if hours in (None, ""):
        hours = {}
    if not isinstance(hours, dict):
        raise ValueError('Give working hours as {"mon": [["09:00", "17:00"]], ...}.')
    unknown = sorted(set(hours) - set(WEEKDAYS))
    if unknown:
        raise ValueError(f"Unknown weekday {', '.join(map(str, unknown))}: use {', '.join(WEEKDAYS)}.")
    weekly = []
    for day in WEEKDAYS:
        raw = hours.get(day) or []
        if not isinstance(raw, list | tuple):
            raise ValueError(f"{day}: give a list of [start, end] pairs.")
        intervals = []
        for pair in raw:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ValueError(f"{day}: each interval is a [start, end] pair of HH:MM times.")
            try:
                start = _minutes(pair[0], is_end=False)
                end = _minutes(pair[1], is_end=True)
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from None
            if end == start:
                raise ValueError(f"{day}: an interval must not start and end at the same time.")
            if end < start:
                end += 1440  # runs past midnight
            intervals.append((start, end))
        weekly.append(_merge_minutes(intervals))
    return tuple(weekly)


def _merge_minutes(intervals: list[Interval]) -> tuple[Interval, ...]:
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def format_hours(weekly: tuple[tuple[Interval, ...], ...]) -> dict[str, list[list[str]]]:
    def fmt(m: int) -> str:
        if m > 1440:
            m -= 1440
        return f"{m // 60:02d}:{m % 60:02d}"

    return {day: [[fmt(s), fmt(e)] for s, e in weekly[i]] for i, day in enumerate(WEEKDAYS)}


def validate_timezone(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError("Give an IANA time zone name such as Europe/London.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"“{name}” is not a known time zone (e.g. Europe/London).") from None
    if name not in _zone_names() and name != "UTC":
        raise ValueError(f"“{name}” is not a known time zone (e.g. Europe/London).")
    return name


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_dates(values: object) -> frozenset[date]:
    if values in (None, ""):
        return frozenset()
    if not isinstance(values, list | tuple | set | frozenset):
        raise ValueError("Give holidays as a list of dates (YYYY-MM-DD).")
    out = set()
    for value in values:
        if isinstance(value, date) and not isinstance(value, datetime):
            out.add(value)
            continue
        parsed = None
        if isinstance(value, str) and len(value) == 10:
            try:
                parsed = date.fromisoformat(value)
            except ValueError:
                parsed = None
        if parsed is None:
            raise ValueError(f"“{value}” is not a date as YYYY-MM-DD.")
        out.add(parsed)
    return frozenset(out)


def validate_country(country: str | None, subdivision: str | None = "") -> tuple[str, str]:
    country = (country or "").strip().upper()
    subdivision = (subdivision or "").strip().upper()
    if not country:
        if subdivision:
            raise ValueError("A subdivision needs a country.")
        return "", ""
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise ValueError(f"“{country}” is not a country with known public holidays (ISO 3166 code).")
    if subdivision and subdivision not in supported[country]:
        raise ValueError(f"“{subdivision}” is not a subdivision of {country}.")
    return country, subdivision


def parse_calendar(
    *,
    timezone: object = "UTC",
    hours: object = None,
    holidays: object = (),
    country: str | None = "",
    subdivision: str | None = "",
    always_open: bool = False,
) -> Calendar:
    """Validate a calendar description; raise CalendarError with per-field messages."""
    errors: dict[str, list[str]] = {}
    tz: str | None = None
    weekly: tuple[tuple[Interval, ...], ...] | None = None
    dates: frozenset[date] | None = None
    place: tuple[str, str] | None = None
    try:
        tz = validate_timezone(timezone)
    except ValueError as exc:
        errors["timezone"] = [str(exc)]
    try:
        weekly = parse_hours(hours)
    except ValueError as exc:
        errors["hours"] = [str(exc)]
    try:
        dates = parse_dates(holidays)
    except ValueError as exc:
        errors["holidays"] = [str(exc)]
    try:
        place = validate_country(country, subdivision)
    except ValueError as exc:
        errors["country"] = [str(exc)]
    if not errors and not always_open and weekly is not None and not any(weekly):
        errors["hours"] = ["Give at least one working interval, or make the calendar 24×7."]
    if errors or tz is None or weekly is None or dates is None or place is None:
        raise CalendarError(errors)
    return Calendar(
        timezone=tz,
        weekly=weekly,
        holidays=dates,
        country=place[0],
        subdivision=place[1],
        always_open=bool(always_open),
    )


# ------------------------------------------------------------------ holidays
@lru_cache(maxsize=512)
def _country_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year).keys())


def is_holiday(cal: Calendar, day: date) -> bool:
    if day in cal.holidays:
        return True
    return bool(cal.country) and day in _country_holidays(cal.country, cal.subdivision, day.year)


# ------------------------------------------------------------------ time zone pieces
def _offset(tz: ZoneInfo, t: datetime) -> timedelta:
    return t.astimezone(tz).utcoffset()  # type: ignore[return-value]


@lru_cache(maxsize=4096)
def _offset_pieces(tzname: str, day: date) -> tuple[tuple[datetime, datetime, timedelta], ...]:
    """Constant-offset stretches of UTC time covering every instant whose wall clock falls
    on `day` or the two days after it (the reach of a day's intervals)."""
    tz = ZoneInfo(tzname)
    lo = datetime(day.year, day.month, day.day, tzinfo=UTC) - 2 * _DAY
    hi = lo + 6 * _DAY
    step = timedelta(hours=2)
    pieces = []
    piece_start, current = lo, _offset(tz, lo)
    t = lo
    while t < hi:
        nxt = min(t + step, hi)
        off = _offset(tz, nxt)
        if off != current:
            # Find the first second with the new offset (transitions are on whole seconds).
            a, b = t, nxt
            while (b - a) > timedelta(seconds=1):
                mid = a + (b - a) / 2
                mid = mid.replace(microsecond=0)
                if mid <= a:
                    mid = a + timedelta(seconds=1)
                if _offset(tz, mid) == current:
                    a = mid
                else:
                    b = mid
            pieces.append((piece_start, b, current))
            piece_start, current = b, _offset(tz, b)
        t = nxt
    pieces.append((piece_start, hi, current))
    return tuple(pieces)


@lru_cache(maxsize=16384)
def day_intervals(cal: Calendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The UTC stretches of business time that start on local date `day`."""
    if cal.always_open:
        raise ValueError("24×7 calendars have no day intervals")
    wall_intervals = cal.weekly[day.weekday()]
    if not wall_intervals or is_holiday(cal, day):
        return ()
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)  # wall clock, written as UTC
    pieces = _offset_pieces(cal.timezone, day)
    out = []
    for start_min, end_min in wall_intervals:
        wall_a = base + timedelta(minutes=start_min)
        wall_b = base + timedelta(minutes=end_min)
        for p0, p1, off in pieces:
            s = max(p0, wall_a - off)
            e = min(p1, wall_b - off)
            if s < e:
                out.append((s, e))
    out.sort()
    merged: list[list[datetime]] = []
    for s, e in out:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return tuple((s, e) for s, e in merged)


def local_date(cal: Calendar, t: datetime) -> date:
    return t.astimezone(ZoneInfo(cal.timezone)).date()


def _check_aware(*values: datetime) -> None:
    for v in values:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("business-time arithmetic needs timezone-aware datetimes")


# ------------------------------------------------------------------ arithmetic
def _stretches(
    cal: Calendar, start: datetime, until: datetime | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Business time from `start` on (up to `until`), as disjoint UTC stretches in order.

    A day's intervals may run past midnight into the next day's, and around a DST change
    (a fold repeats wall-clock time) they can start before the previous day's last one: so
    they are gathered from every day that can reach an instant and merged, and a stretch is
    given out only once no later day can start before its end."""
    current: tuple[datetime, datetime] | None = None
    for s, e in _intervals_in_order(cal, start, until):
        if current is not None and s <= current[1]:
            current = (current[0], max(current[1], e))
            continue
        if current is not None:
            yield current
        current = (s, e)
    if current is not None:
        yield current


def _intervals_in_order(
    cal: Calendar, start: datetime, until: datetime | None
) -> Iterator[tuple[datetime, datetime]]:
    """Every day's intervals reaching past `start`, by start instant (they may overlap): one
    is given out once no later day can start an interval before it."""
    day = local_date(cal, start) - 2 * _DAY
    limit = day + timedelta(days=_MAX_SEARCH_DAYS)
    pending: list[tuple[datetime, datetime]] = []
    while day < limit:
        for s, e in day_intervals(cal, day):
            if e > start:
                heapq.heappush(pending, (max(s, start), e))
        day += _DAY
        horizon = datetime(day.year, day.month, day.day, tzinfo=UTC) - _MAX_OFFSET
        while pending and pending[0][0] < horizon:
            yield heapq.heappop(pending)
        if until is not None and horizon > until:
            break
    yield from sorted(pending)


def business_seconds_between(cal: Calendar, start: datetime, end: datetime) -> float:
    """Business seconds in [start, end); negative when end is before start."""
    _check_aware(start, end)
    if end < start:
        return -business_seconds_between(cal, end, start)
    if end == start:
        return 0.0
    if cal.always_open:
        return (end - start).total_seconds()
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = 0.0
    for s, e in _stretches(cal, start, until=end):
        if s >= end:
            break
        total += (min(e, end) - s).total_seconds()
    return total


class BusinessSecondsFrom:
    """business_seconds_between(cal, start, end) for one calendar and start and many ends (a
    page of clocks, all measured from now): the stretches from `earliest` (the earliest end,
    when some lie before `start`) are walked once, as far as the latest end asks, and each
    end is summed by bisection over them; an end before `start` is the difference of two such
    sums. Equal to business_seconds_between for ends after `start` when nothing lies before
    it, else to the second (floating-point sums)."""

    def __init__(self, cal: Calendar, start: datetime, *, earliest: datetime | None = None) -> None:
        _check_aware(start)
        self.cal, self.start = cal, start.astimezone(UTC)
        self.origin = self.start if earliest is None else min(self.start, earliest.astimezone(UTC))
        self._walk = None if cal.always_open else _stretches(cal, self.origin)
        self._starts: list[datetime] = []
        self._ends: list[datetime] = []
        self._before: list[float] = []  # business seconds from the origin before each stretch
        self._total = 0.0
        self._at_start: float | None = None if self.origin < self.start else 0.0

    def __call__(self, end: datetime) -> float:
        _check_aware(end)
        end = end.astimezone(UTC)
        reach = timedelta(days=_MAX_SEARCH_DAYS - 366)
        if self._walk is None or end < self.origin or end - self.origin > reach:
            return business_seconds_between(self.cal, self.start, end)
        if self._at_start is None:
            self._at_start = self._from_origin(self.start)
        return self._from_origin(end) - self._at_start

    def _from_origin(self, end: datetime) -> float:
        assert self._walk is not None  # noqa: S101 - __call__ measures always-open time itself
        while not self._ends or self._ends[-1] < end:
            stretch = next(self._walk, None)
            if stretch is None:
                return self._total  # nothing more within the search's reach
            self._starts.append(stretch[0])
            self._ends.append(stretch[1])
            self._before.append(self._total)
            self._total += (stretch[1] - stretch[0]).total_seconds()
        i = bisect.bisect_left(self._ends, end)  # the first stretch ending at or after `end`
        return self._before[i] + max(0.0, (end - self._starts[i]).total_seconds())


def add_business_seconds(cal: Calendar, start: datetime, seconds: float) -> datetime:
    """The instant at which `seconds` of business time have elapsed since `start`."""
    _check_aware(start)
    if seconds < 0:
        raise ValueError("cannot add negative business time")
    start = start.astimezone(UTC)
    if seconds == 0:
        return start
    if cal.always_open:
        return start + timedelta(seconds=seconds)
    if not any(cal.weekly):
        raise ValueError("the calendar has no working time")
    remaining = float(seconds)
    for s, e in _stretches(cal, start):
        length = (e - s).total_seconds()
        if length >= remaining:
            return s + timedelta(seconds=remaining)
        remaining -= length
    raise ValueError("the calendar has no working time in the next 20 years")


def add_business_minutes(cal: Calendar, start: datetime, minutes: float) -> datetime:
    return add_business_seconds(cal, start, minutes * 60)


def business_minutes_between(cal: Calendar, start: datetime, end: datetime) -> float:
    return business_seconds_between(cal, start, end) / 60


def due_instant(
    cal: Calendar,
    start: datetime,
    target_seconds: float,
    gaps: Sequence[tuple[datetime, datetime | None]] = (),
) -> tuple[datetime | None, float]:
    """When `target_seconds` of business time have run since `start`, not counting the
    `gaps` (pauses and stretches while stopped; the last may be open, end None).

    Returns (due, remaining): `due` is None when the target is not yet reached and the
    clock is stopped by an open gap; `remaining` is the business seconds still to run at
    the end of the counted stretches (frozen while stopped; 0 once due is known).
    """
    _check_aware(start)
    remaining = float(target_seconds)
    cursor = start.astimezone(UTC)
    for gap_start, gap_end in sorted(gaps, key=lambda g: g[0]):
        gap_start = max(gap_start.astimezone(UTC), cursor)
        counted = business_seconds_between(cal, cursor, gap_start) if gap_start > cursor else 0.0
        if counted >= remaining:
            return add_business_seconds(cal, cursor, remaining), 0.0
        remaining -= counted
        if gap_end is None:
            return None, remaining
        cursor = max(cursor, gap_end.astimezone(UTC))
    return add_business_seconds(cal, cursor, remaining), 0.0


def counted_seconds(
    cal: Calendar,
    start: datetime,
    gaps: Sequence[tuple[datetime, datetime | None]],
    until: datetime,
) -> float:
    """Business seconds from `start` to `until`, leaving out the gaps."""
    _check_aware(start, until)
    total = 0.0
    cursor = start.astimezone(UTC)
    until = until.astimezone(UTC)
    for gap_start, gap_end in sorted(gaps, key=lambda g: g[0]):
        gap_start = min(max(gap_start.astimezone(UTC), cursor), until)
        if gap_start > cursor:
            total += business_seconds_between(cal, cursor, gap_start)
        if gap_end is None:
            return total
        cursor = max(cursor, gap_end.astimezone(UTC))
        if cursor >= until:
            return total
    if until > cursor:
        total += business_seconds_between(cal, cursor, until)
    return total
