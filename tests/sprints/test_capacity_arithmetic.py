"""Capacity arithmetic, checked against examples worked out by hand (see each docstring)."""

from datetime import date
from decimal import Decimal as D

from sprints.capacity import (
    Availability,
    CardLoad,
    PastSprint,
    burndown,
    capacity_panel,
    sprint_capacity,
    working_days,
)

MON = date(2026, 3, 2)  # a Monday
FRI_NEXT = date(2026, 3, 13)  # two weeks later, a Friday: 10 working days


def test_working_days_skip_weekends():
    assert working_days(MON, FRI_NEXT) == 10
    assert working_days(MON, MON) == 1
    assert working_days(date(2026, 3, 7), date(2026, 3, 8)) == 0  # Saturday, Sunday
    assert working_days(date(2026, 3, 4), date(2026, 3, 17)) == 10  # Wed to Tue, two weeks
    assert working_days(FRI_NEXT, MON) == 0


TEAM = [
    Availability(user_id=1, days_off=D("0"), hours_per_day=D("6"), focus_factor=D("0.8")),  # 10*6*.8 = 48
    Availability(user_id=2, days_off=D("2"), hours_per_day=D("6"), focus_factor=D("0.8")),  # 8*6*.8 = 38.4
    Availability(user_id=3, days_off=D("0"), hours_per_day=D("8"), focus_factor=D("0.5")),  # 10*8*.5 = 40
]


def test_hours_team_capacity_is_focused_hours_shared_support_takes_the_percentage():
    """48 + 38.4 + 40 = 126.4 h; 20 % of it (25.28) is reserved for support."""
    cap = sprint_capacity(unit="hours", members=TEAM, days=10, support_model="shared", allocation_percent=20)
    assert cap.capacity == D("126.4")
    assert cap.support_reserved == D("25.3")
    assert cap.plannable == D("101.1")
    assert cap.basis == "availability"


def test_hours_team_rotation_reserves_the_whole_of_the_support_members_hours():
    """Member 2 is on support: their 38.4 h are the reserve, whatever the percentage."""
    cap = sprint_capacity(
        unit="hours",
        members=TEAM,
        days=10,
        support_model="rotation",
        allocation_percent=20,
        support_user_id=2,
    )
    assert cap.capacity == D("126.4")
    assert cap.support_reserved == D("38.4")
    assert cap.plannable == D("88.0")


def test_rotation_without_a_support_member_falls_back_to_the_percentage():
    cap = sprint_capacity(
        unit="hours", members=TEAM, days=10, support_model="rotation", allocation_percent=10
    )
    assert cap.support_reserved == D("12.6")  # 12.64


def test_days_off_beyond_the_sprint_count_as_no_time_not_negative_time():
    member = Availability(user_id=1, days_off=D("12"), hours_per_day=D("6"), focus_factor=D("1"))
    assert sprint_capacity(unit="hours", members=[member], days=10).capacity == D("0.0")


def test_focus_factor_scales_hours():
    full = Availability(user_id=1, focus_factor=D("1"), hours_per_day=D("7"))
    half = Availability(user_id=1, focus_factor=D("0.5"), hours_per_day=D("7"))
    assert sprint_capacity(unit="hours", members=[full], days=10, allocation_percent=0).capacity == D("70.0")
    assert sprint_capacity(unit="hours", members=[half], days=10, allocation_percent=0).capacity == D("35.0")


POINTS_TEAM = [
    Availability(user_id=1, focus_factor=D("0.8")),  # 10 * .8 = 8 focused days
    Availability(user_id=2, days_off=D("2"), focus_factor=D("0.8")),  # 8 * .8 = 6.4
    Availability(user_id=3, focus_factor=D("0.8")),  # 8
]  # 22.4 focused days


def test_points_team_capacity_from_velocity_per_focused_day_of_the_last_three_sprints():
    """History (most recent first): 30 pts in 20 days, 36 in 24, 24 in 16 -> 90 / 60 = 1.5
    points per focused day; the fourth sprint is too old to count. 22.4 days x 1.5 = 33.6;
    20 % reserve = 6.72."""
    history = [
        PastSprint(velocity=D("30"), focused_days=D("20")),
        PastSprint(velocity=D("36"), focused_days=D("24")),
        PastSprint(velocity=D("24"), focused_days=D("16")),
        PastSprint(velocity=D("100"), focused_days=D("10")),
    ]
    cap = sprint_capacity(unit="points", members=POINTS_TEAM, days=10, history=history)
    assert cap.basis == "velocity"
    assert cap.velocity_per_focused_day == D("1.50")
    assert cap.focused_days == D("22.4")
    assert cap.capacity == D("33.6")
    assert cap.support_reserved == D("6.7")


def test_points_team_rotation_reserves_the_support_members_share():
    """Member 2 brings 6.4 of 22.4 focused days: 33.6 x 6.4 / 22.4 = 9.6 points."""
    history = [PastSprint(velocity=D("30"), focused_days=D("20"))]
    cap = sprint_capacity(
        unit="points",
        members=POINTS_TEAM,
        days=10,
        history=history,
        support_model="rotation",
        support_user_id=2,
    )
    assert cap.capacity == D("33.6")
    assert cap.support_reserved == D("9.6")


def test_points_team_without_history_plans_one_point_per_focused_day():
    cap = sprint_capacity(unit="points", members=POINTS_TEAM, days=10, history=[], allocation_percent=25)
    assert cap.basis == "no_history"
    assert cap.capacity == D("22.4")
    assert cap.support_reserved == D("5.6")


def test_days_off_lower_points_capacity_proportionally():
    history = [PastSprint(velocity=D("20"), focused_days=D("16"))]  # 1.25 per focused day
    everyone = [
        Availability(user_id=1, focus_factor=D("0.8")),
        Availability(user_id=2, focus_factor=D("0.8")),
    ]
    one_off = [
        Availability(user_id=1, focus_factor=D("0.8")),
        Availability(user_id=2, days_off=D("5"), focus_factor=D("0.8")),
    ]
    assert sprint_capacity(unit="points", members=everyone, days=10, history=history).capacity == D("20.0")
    assert sprint_capacity(unit="points", members=one_off, days=10, history=history).capacity == D("15.0")


def card(card_id, estimate, rank, *, done=False, planned=True):
    return CardLoad(card_id=card_id, estimate=D(estimate), backlog_rank=rank, done=done, planned=planned)


def test_panel_unplanned_beyond_the_reserve_pushes_the_lowest_ranked_committed_cards_out():
    """Capacity 40, reserve 8, committed 30 (A 8 done, B 10, C 5, D 7), an escalation of 13.
    13 > 8, so the line for planned work is 40 - 13 = 27; 30 - 27 = 3 over. Budget left for
    unfinished planned cards: 27 - 8 (A, done) = 19: B (10), C (15) fit, D (22) does not."""
    cards = [
        card(1, "8", 1, done=True),
        card(2, "10", 2),
        card(3, "5", 3),
        card(4, "7", 4),
        card(5, "13", 0, planned=False),
    ]
    panel = capacity_panel(
        capacity=D("40"),
        support_reserved=D("8"),
        committed=D("30"),
        cards=cards,
        unplanned_by_source={"escalation": D("13")},
    )
    assert panel.unplanned == D("13.0")
    assert panel.capacity_line == D("27.0")
    assert panel.overcommitted_by == D("3.0")
    assert panel.completed == D("8.0")
    assert panel.remaining == D("35.0")  # 30 + 13 - 8
    assert panel.at_risk == [4]
    assert panel.support_overrun == D("5.0")
    assert panel.support_share == D("32.5")


def test_panel_unplanned_inside_the_reserve_puts_nothing_at_risk():
    cards = [card(1, "10", 1), card(2, "10", 2), card(3, "3", 9, planned=False)]
    panel = capacity_panel(
        capacity=D("25"),
        support_reserved=D("5"),
        committed=D("20"),
        cards=cards,
        unplanned_by_source={"escalation": D("3")},
    )
    assert panel.capacity_line == D("20.0")
    assert panel.overcommitted_by == D("0.0")
    assert panel.at_risk == []


def test_at_risk_follows_backlog_rank_not_insertion_order():
    """Line 10: ranks 5 (4 pts), 1 (4 pts), 3 (4 pts) -> in rank order 1, 3 fit (8), 5 is out."""
    cards = [card(10, "4", 5), card(11, "4", 1), card(12, "4", 3)]
    panel = capacity_panel(capacity=D("10"), support_reserved=D("0"), committed=D("12"), cards=cards)
    assert panel.at_risk == [10]
    assert panel.overcommitted_by == D("2.0")


def test_panel_logged_support_time_counts_as_unplanned_and_as_spent():
    """Hours team: 100 h capacity, 20 reserved, 70 committed; 32 h logged on incidents and a
    6 h emergency change: 38 unplanned > 20, line 62, 8 over."""
    cards = [card(1, "40", 1), card(2, "30", 2)]
    panel = capacity_panel(
        capacity=D("100"),
        support_reserved=D("20"),
        committed=D("70"),
        cards=cards,
        unplanned_by_source={"emergency_change": D("6")},
        support_time=D("32"),
    )
    assert panel.unplanned_by_source == {"emergency_change": D("6.0"), "support_time": D("32.0")}
    assert panel.unplanned == D("38.0")
    assert panel.capacity_line == D("62.0")
    assert panel.overcommitted_by == D("8.0")
    assert panel.completed == D("32.0")
    assert panel.at_risk == [2]


def test_planned_delta_from_removals_and_re_estimates_changes_the_planned_scope():
    panel = capacity_panel(
        capacity=D("20"), support_reserved=D("4"), committed=D("20"), planned_delta=D("-5"), cards=[]
    )
    assert panel.planned_scope == D("15.0")
    assert panel.overcommitted_by == D("0.0")


def test_burndown_ideal_is_flat_at_weekends_and_actual_stops_today():
    points = burndown(
        start=MON,
        end=FRI_NEXT,
        today=date(2026, 3, 4),
        committed=D("20"),
        scope_changes=[(date(2026, 3, 3), D("5"))],
        completions=[(date(2026, 3, 4), D("8"))],
    )
    by_day = {p["day"]: p for p in points}
    assert points[0] == {"day": "start", "ideal": D("20.0"), "actual": D("20.0")}
    assert by_day["2026-03-02"]["ideal"] == D("18.0") and by_day["2026-03-02"]["actual"] == D("20.0")
    assert by_day["2026-03-03"]["actual"] == D("25.0")
    assert by_day["2026-03-04"]["ideal"] == D("14.0") and by_day["2026-03-04"]["actual"] == D("17.0")
    assert by_day["2026-03-05"]["actual"] is None
    assert by_day["2026-03-06"]["ideal"] == by_day["2026-03-07"]["ideal"] == by_day["2026-03-08"]["ideal"]
    assert by_day["2026-03-13"]["ideal"] == D("0.0")
    assert len(points) == 13
