"""Property-based tests: the calendar arithmetic against a brute-force reference that
walks minute by minute, in several time zones, around DST changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.calendar import (
    WEEKDAYS,
    BusinessSecondsFrom,
    add_business_seconds,
    business_seconds_between,
    due_instant,
    is_holiday,
    parse_calendar,
)

ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Asia/Kathmandu",  # +05:45, no DST
    "America/Santiago",  # southern-hemisphere DST, changes at midnight
    "Pacific/Chatham",  # +12:45/+13:45
]
# Days around DST changes of these zones in 2025, and an ordinary week.
ANCHORS = [
    date(2025, 3, 9),
    date(2025, 3, 30),
    date(2025, 4, 6),
    date(2025, 9, 7),
    date(2025, 9, 28),
    date(2025, 10, 5),
    date(2025, 10, 26),
    date(2025, 11, 2),
    date(2025, 6, 18),
]
MINUTE = timedelta(minutes=1)


def clock(minutes):
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


interval = st.tuples(st.integers(0, 95), st.integers(1, 80)).map(
    lambda p: [
        clock(p[0] * 15),
        clock((p[0] * 15 + p[1] * 15) % 1440) if p[0] * 15 + p[1] * 15 != 1440 else "24:00",
    ]
)
weekly = st.lists(st.lists(interval, max_size=2), min_size=7, max_size=7).filter(lambda w: any(w))
start_instant = st.tuples(st.sampled_from(ANCHORS), st.integers(-3 * 1440, 3 * 1440)).map(
    lambda p: datetime.combine(p[0], time(), tzinfo=UTC) + timedelta(minutes=p[1])
)


def make_calendar(tz, week, holiday_offsets, anchor):
    return parse_calendar(
        timezone=tz,
        hours={day: week[i] for i, day in enumerate(WEEKDAYS)},
        holidays=[(anchor + timedelta(days=o)).isoformat() for o in holiday_offsets],
    )


def is_business_minute(cal, t):
    """The reference: wall clock of the minute, checked against today's and yesterday's
    intervals (those of yesterday may run past midnight)."""
    wall = t.astimezone(ZoneInfo(cal.timezone)).replace(tzinfo=None)
    for day in (wall.date(), wall.date() - timedelta(days=1)):
        if is_holiday(cal, day):
            continue
        base = datetime.combine(day, time())
        for start, end in cal.weekly[day.weekday()]:
            if base + timedelta(minutes=start) <= wall < base + timedelta(minutes=end):
                return True
    return False


def reference_between(cal, a, b):
    total, t = 0, a
    while t < b:
        total += is_business_minute(cal, t)
        t += MINUTE
    return total * 60


def reference_add(cal, a, minutes, limit=20 * 1440):
    t, left = a, minutes
    if left == 0:
        return a
    for _ in range(limit):
        if is_business_minute(cal, t):
            left -= 1
            if left == 0:
                return t + MINUTE
        t += MINUTE
    return None


common = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("tz", ZONES)
@common
@given(
    week=weekly,
    holidays=st.lists(st.integers(-3, 3), max_size=2),
    a=start_instant,
    span=st.integers(0, 3 * 1440),
)
def test_between_matches_minute_walk(tz, week, holidays, a, span):
    cal = make_calendar(tz, week, holidays, a.date())
    b = a + timedelta(minutes=span)
    assert business_seconds_between(cal, a, b) == reference_between(cal, a, b)
    assert business_seconds_between(cal, b, a) == -reference_between(cal, a, b)


@pytest.mark.parametrize("tz", ZONES)
@common
@given(
    week=weekly,
    holidays=st.lists(st.integers(-3, 3), max_size=2),
    a=start_instant,
    spans=st.lists(st.integers(-2 * 1440, 12 * 1440), min_size=1, max_size=12),
)
def test_one_walk_from_a_start_measures_every_end_as_between_does(tz, week, holidays, a, spans):
    # A page's clocks share the start (now) and come in any order of due instants.
    cal = make_calendar(tz, week, holidays, a.date())
    ends = [a + timedelta(minutes=span, seconds=span % 7) for span in spans]
    from_a = BusinessSecondsFrom(cal, a)
    for b in ends:
        assert from_a(b) == business_seconds_between(cal, a, b)
    # Walking once from the earliest end, overdue ones included: equal to the second.
    from_earliest = BusinessSecondsFrom(cal, a, earliest=min(ends))
    for b in ends:
        assert round(from_earliest(b)) == round(business_seconds_between(cal, a, b))


@pytest.mark.parametrize("tz", ZONES)
@common
@given(
    week=weekly,
    holidays=st.lists(st.integers(-3, 3), max_size=2),
    a=start_instant,
    minutes=st.integers(0, 1200),
)
def test_add_matches_minute_walk_and_inverts_between(tz, week, holidays, a, minutes):
    cal = make_calendar(tz, week, holidays, a.date())
    expected = reference_add(cal, a, minutes)
    if expected is None:
        return  # the target lies beyond what the walk covers
    due = add_business_seconds(cal, a, minutes * 60)
    assert due == expected
    assert business_seconds_between(cal, a, due) == minutes * 60


@pytest.mark.parametrize("tz", ZONES[:3])
@common
@given(
    week=weekly,
    a=start_instant,
    minutes=st.integers(1, 900),
    gap_start=st.integers(0, 2 * 1440),
    gap_len=st.integers(0, 1440),
)
def test_due_with_a_pause_skips_exactly_the_pause(tz, week, a, minutes, gap_start, gap_len):
    cal = make_calendar(tz, week, [], a.date())
    g0 = a + timedelta(minutes=gap_start)
    g1 = g0 + timedelta(minutes=gap_len)
    due, _ = due_instant(cal, a, minutes * 60, [(g0, g1)])
    # Reference: walk, skipping minutes inside the pause.
    t, left = a, minutes
    for _ in range(20 * 1440):
        if not (g0 <= t < g1) and is_business_minute(cal, t):
            left -= 1
            if left == 0:
                break
        t += MINUTE
    else:
        return
    assert due == t + MINUTE


def test_a_minute_of_the_next_days_interval_before_a_fold_is_counted_first():
    """Lord Howe's clocks go back 30 minutes at 02:00 on 6 April 2025 (15:00 UTC). With a
    Saturday 05:45–01:45 and a Sunday 00:00–02:00, Sunday's stretch (13:00–15:30 UTC) holds
    14:59 UTC while Saturday's second pass through 01:30–01:45 starts at 15:00: the minute
    from 14:59 is due at 15:00, not after Saturday's later piece (found by the property above)."""
    cal = make_calendar(
        "Australia/Lord_Howe",
        [[], [], [], [], [], [["05:45", "01:45"]], [["00:00", "02:00"]]],
        [],
        date(2025, 4, 5),
    )
    start = datetime(2025, 4, 5, 14, 59, tzinfo=UTC)
    assert add_business_seconds(cal, start, 60) == datetime(2025, 4, 5, 15, 0, tzinfo=UTC)
    assert due_instant(cal, start, 60, [(start, start)])[0] == datetime(2025, 4, 5, 15, 0, tzinfo=UTC)
    assert business_seconds_between(cal, start, datetime(2025, 4, 5, 15, 30, tzinfo=UTC)) == 31 * 60
