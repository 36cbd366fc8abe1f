"""Hand-worked cases of the business-time arithmetic."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla.calendar import (
    WEEKDAYS,
    CalendarError,
    add_business_minutes,
    business_minutes_between,
    due_instant,
    format_hours,
    parse_calendar,
    parse_hours,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def office(tz="Europe/London", start="09:00", end="17:00", **kw):
    return parse_calendar(timezone=tz, hours={d: [[start, end]] for d in WEEKDAYS[:5]}, **kw)


def test_friday_afternoon_p2_is_due_monday_lunchtime():
    cal = office()
    logged = datetime(2025, 1, 10, 16, 30, tzinfo=LONDON)  # a Friday
    due = add_business_minutes(cal, logged, 4 * 60)
    assert due == datetime(2025, 1, 13, 12, 30, tzinfo=LONDON)
    assert business_minutes_between(cal, logged, due) == 240


def test_two_hour_pause_on_tuesday_moves_due_by_its_business_part():
    cal = office()
    start = datetime(2025, 1, 13, 9, 0, tzinfo=LONDON)  # Monday
    target = 16 * 3600  # two business days
    due_plain, _ = due_instant(cal, start, target)
    assert due_plain == datetime(2025, 1, 14, 17, 0, tzinfo=LONDON)
    # Paused Tuesday 16:00-18:00: only 16:00-17:00 is business time.
    pause = (datetime(2025, 1, 14, 16, 0, tzinfo=LONDON), datetime(2025, 1, 14, 18, 0, tzinfo=LONDON))
    due_paused, _ = due_instant(cal, start, target, [pause])
    assert due_paused == datetime(2025, 1, 15, 10, 0, tzinfo=LONDON)
    # Paused Tuesday 10:00-12:00: all of it counts, due moves two hours.
    pause = (datetime(2025, 1, 14, 10, 0, tzinfo=LONDON), datetime(2025, 1, 14, 12, 0, tzinfo=LONDON))
    due_paused, _ = due_instant(cal, start, target, [pause])
    assert due_paused == datetime(2025, 1, 15, 11, 0, tzinfo=LONDON)


def test_open_pause_freezes_the_remaining_time():
    cal = office()
    start = datetime(2025, 1, 13, 9, 0, tzinfo=LONDON)
    due, remaining = due_instant(cal, start, 8 * 3600, [(datetime(2025, 1, 13, 11, 0, tzinfo=LONDON), None)])
    assert due is None
    assert remaining == 6 * 3600


def test_london_spring_forward_night_is_an_hour_shorter():
    cal = parse_calendar(timezone="Europe/London", hours={d: [["00:00", "24:00"]] for d in WEEKDAYS})
    sat = datetime(2025, 3, 29, 12, 0, tzinfo=LONDON)
    mon = datetime(2025, 3, 31, 12, 0, tzinfo=LONDON)
    assert business_minutes_between(cal, sat, mon) == 47 * 60
    assert mon.astimezone(UTC) - sat.astimezone(UTC) == timedelta(hours=47)


def test_london_fall_back_night_counts_the_repeated_hour_once_per_occurrence():
    cal = parse_calendar(timezone="Europe/London", hours={d: [["22:00", "06:00"]] for d in WEEKDAYS})
    sat_evening = datetime(2025, 10, 25, 22, 0, tzinfo=LONDON)
    # The Saturday night shift lasts 9 real hours (01:00-02:00 happens twice).
    end = add_business_minutes(cal, sat_evening, 9 * 60)
    assert end.astimezone(LONDON).replace(tzinfo=None) == datetime(2025, 10, 26, 6, 0)
    assert business_minutes_between(cal, sat_evening, end) == 9 * 60


def test_new_york_dst_week_office_hours_keep_wall_clock():
    cal = office("America/New_York")
    # 2025-03-09 spring forward (Sunday). Friday 15:00 + 4h -> Monday 11:00 local, EDT.
    fri = datetime(2025, 3, 7, 15, 0, tzinfo=NEW_YORK)
    due = add_business_minutes(cal, fri, 240)
    assert due == datetime(2025, 3, 10, 11, 0, tzinfo=NEW_YORK)
    assert due.astimezone(UTC).hour == 15  # EDT is UTC-4
    # 2025-11-02 fall back.
    fri = datetime(2025, 10, 31, 15, 0, tzinfo=NEW_YORK)
    due = add_business_minutes(cal, fri, 240)
    assert due.astimezone(UTC) == datetime(2025, 11, 3, 16, 0, tzinfo=UTC)  # 11:00 EST


def test_holidays_listed_and_country():
    cal = office(holidays=["2025-01-13"])
    fri = datetime(2025, 1, 10, 16, 30, tzinfo=LONDON)
    assert add_business_minutes(cal, fri, 240) == datetime(2025, 1, 14, 12, 30, tzinfo=LONDON)
    gb = office(country="GB")
    # Christmas Day and Boxing Day 2025 are Thursday and Friday.
    wed = datetime(2025, 12, 24, 16, 0, tzinfo=LONDON)
    assert add_business_minutes(gb, wed, 120) == datetime(2025, 12, 29, 10, 0, tzinfo=LONDON)


def test_always_open_is_wall_time():
    cal = parse_calendar(timezone="Europe/London", always_open=True)
    start = datetime(2025, 3, 29, 23, 0, tzinfo=UTC)
    assert add_business_minutes(cal, start, 120) == start + timedelta(hours=2)


def test_zero_length_days_and_negative_between():
    cal = office()
    sat = datetime(2025, 1, 11, 10, 0, tzinfo=LONDON)
    sun = datetime(2025, 1, 12, 10, 0, tzinfo=LONDON)
    assert business_minutes_between(cal, sat, sun) == 0
    mon = datetime(2025, 1, 13, 10, 0, tzinfo=LONDON)
    assert business_minutes_between(cal, mon, sat) == -60


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("timezone", {"timezone": "Mars/Olympus"}),
        ("hours", {"hours": {"mon": [["9am", "17:00"]]}}),
        ("hours", {"hours": {"mon": [["24:00", "17:00"]]}}),
        ("hours", {"hours": {"funday": [["09:00", "17:00"]]}}),
        ("hours", {"hours": {"mon": [["09:00", "09:00"]]}}),
        ("hours", {"hours": {}}),
        ("holidays", {"hours": {"mon": [["09:00", "17:00"]]}, "holidays": ["2025-02-30"]}),
        ("country", {"hours": {"mon": [["09:00", "17:00"]]}, "country": "XX"}),
    ],
)
def test_bad_descriptions_name_the_field(field, kwargs):
    with pytest.raises(CalendarError) as err:
        parse_calendar(**kwargs)
    assert field in err.value.errors


def test_hours_round_trip_with_midnight_spans():
    weekly = parse_hours({"mon": [["22:00", "06:00"]], "tue": [["09:00", "24:00"]]})
    assert format_hours(weekly)["mon"] == [["22:00", "06:00"]]
    assert format_hours(weekly)["tue"] == [["09:00", "24:00"]]
    assert date(2025, 1, 13).weekday() == 0
