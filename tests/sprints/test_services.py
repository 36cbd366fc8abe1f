"""Sprint lifecycle and scope: services against the real database."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from boards.models import ColumnCategory
from org.models import TeamSupportModel
from sprints import selectors, services
from sprints.models import ScopeChange, SprintMember, SprintState, WorkSource
from tracker.exceptions import DomainError, TransitionNotAllowed

pytestmark = pytest.mark.django_db


def test_create_makes_availability_for_every_member_and_starts_in_planning(sprint, team):
    assert sprint.state == SprintState.PLANNING
    assert SprintMember.objects.filter(sprint=sprint).count() == 3
    assert set(SprintMember.objects.filter(sprint=sprint).values_list("user", flat=True)) == set(
        team.members.values_list("pk", flat=True)
    )


def test_create_refuses_bad_input_with_field_messages(team, po_user):
    with pytest.raises(ValidationError) as exc:
        services.sprint_create(team=team, name="", start=None, actor=po_user)
    assert {"name", "start"} <= set(exc.value.message_dict)
    start = sprint_start_date = team.sprints.model(start=None)  # noqa: F841
    with pytest.raises(ValidationError) as exc:
        import datetime

        d0 = datetime.date(2026, 3, 2)
        services.sprint_create(team=team, name="x", start=d0, end=d0 - timedelta(days=1), actor=po_user)
    assert "end" in exc.value.message_dict


def test_rotation_is_round_robin_over_members(team, board, po_user):
    team.support_model = TeamSupportModel.ROTATION
    team.save()
    members = list(team.members.order_by("username"))
    import datetime

    start = datetime.date(2026, 1, 5)
    picked = []
    for i in range(4):
        s = services.sprint_create(
            team=team, name=f"R{i}", start=start + timedelta(days=14 * i), board=board, actor=po_user
        )
        picked.append(s.support_member)
    assert picked == [members[0], members[1], members[2], members[0]]
    # editable: a swap is kept and the round robin continues after it
    services.sprint_update(sprint=s, actor=po_user, support_member=members[2])
    nxt = services.sprint_create(team=team, name="R4", start=start + timedelta(days=70), actor=po_user)
    assert nxt.support_member == members[0]


def test_start_twice_and_close_planning_are_refused(sprint, po_user):
    with pytest.raises(TransitionNotAllowed):
        services.sprint_close(sprint=sprint, actor=po_user, confirm=True)
    services.sprint_start(sprint=sprint, actor=po_user, confirm=True)
    with pytest.raises(TransitionNotAllowed) as exc:
        services.sprint_start(sprint=sprint, actor=po_user, confirm=True)
    assert exc.value.code == "transition_not_allowed"


def test_only_one_active_sprint_per_team(sprint, team, board, po_user):
    services.sprint_start(sprint=sprint, actor=po_user, confirm=True)
    other = services.sprint_create(
        team=team, name="Sprint 2", start=sprint.end + timedelta(days=1), board=board, actor=po_user
    )
    with pytest.raises(TransitionNotAllowed):
        services.sprint_start(sprint=other, actor=po_user, confirm=True)


def test_planning_sprint_membership_is_not_logged(sprint, make_card, po_user):
    card = make_card(estimate=5)
    services.card_sprint_set(card=card, sprint=sprint, actor=po_user)
    card.refresh_from_db()
    assert card.sprint == sprint
    assert not ScopeChange.objects.exists()


def test_start_records_commitment_and_capacity(sprint, make_card, po_user):
    for est in (5, 3, None):
        services.card_sprint_set(card=make_card(estimate=est), sprint=sprint, actor=po_user)
    sprint = services.sprint_start(sprint=sprint, actor=po_user, confirm=True)
    sprint.refresh_from_db()
    assert sprint.state == SprintState.ACTIVE
    assert sprint.committed == D("8")
    # no history: one point per focused day: 3 members x 10 days x 0.8 = 24
    assert sprint.capacity_at_start == D("24.0")
    assert sprint.commitments.count() == 3


def test_every_scope_change_after_start_is_logged_with_source(sprint, make_card, po_user, developer_user):
    committed = make_card(estimate=5)
    services.card_sprint_set(card=committed, sprint=sprint, actor=po_user)
    services.sprint_start(sprint=sprint, actor=po_user, confirm=True)

    escalated = make_card(estimate=3, type="production_defect")
    services.card_sprint_set(
        card=escalated, sprint=sprint, actor=developer_user, reason="INC-1 P1", source=WorkSource.ESCALATION
    )
    services.card_estimate_set(card=committed, estimate=8, actor=po_user, reason="bigger than thought")
    services.card_estimate_set(card=escalated, estimate=2, actor=po_user)
    services.card_sprint_set(card=committed, sprint=None, actor=po_user, reason="dropped for the fix")
    added_by_hand = make_card(estimate=1)
    services.card_sprint_set(card=added_by_hand, sprint=sprint, actor=po_user)

    rows = list(
        ScopeChange.objects.order_by("pk").values_list("card", "change", "source", "estimate_delta", "reason")
    )
    assert rows == [
        (escalated.pk, "added", "escalation", D("3"), "INC-1 P1"),
        (committed.pk, "re_estimated", "planned", D("3"), "bigger than thought"),
        (escalated.pk, "re_estimated", "escalation", D("-1"), ""),
        (committed.pk, "removed", "planned", D("-8"), "dropped for the fix"),
        (added_by_hand.pk, "added", "other", D("1"), ""),
    ]
    assert ScopeChange.objects.filter(actor=po_user).count() == 4

    sprint.refresh_from_db()
    panel = selectors.sprint_panel(sprint).panel
    assert panel.committed == D("5.0")
    assert panel.planned_scope == D("0.0")
    assert panel.unplanned_by_source == {"escalation": D("2.0"), "other": D("1.0")}


def test_closed_sprint_takes_no_cards(sprint, make_card, po_user):
    services.sprint_start(sprint=sprint, actor=po_user, confirm=True)
    services.sprint_close(sprint=sprint, actor=po_user, confirm=True)
    with pytest.raises(DomainError) as exc:
        services.card_sprint_set(card=make_card(), sprint=sprint, actor=po_user)
    assert exc.value.code == "sprint_closed"


def test_card_of_another_board_is_refused(sprint, po_user):
    from tests.boards.factories import CardFactory

    with pytest.raises(ValidationError) as exc:
        services.card_sprint_set(card=CardFactory(), sprint=sprint, actor=po_user)
    assert "sprint" in exc.value.message_dict


def test_close_carries_unfinished_cards_over_logs_it_and_records_velocity(
    sprint, team, board, make_card, po_user
):
    done = make_card(estimate=5, category=ColumnCategory.DONE)
    doing = make_card(estimate=3, category=ColumnCategory.IN_PROGRESS)
    todo = make_card(estimate=2, category=ColumnCategory.READY)
    for card in (done, doing, todo):
        services.card_sprint_set(card=card, sprint=sprint, actor=po_user)
    services.sprint_start(sprint=sprint, actor=po_user, confirm=True)
    nxt = services.sprint_create(
        team=team, name="Sprint 2", start=sprint.end + timedelta(days=3), board=board, actor=po_user
    )
    services.sprint_close(sprint=sprint, actor=po_user, carry_over_to=nxt, confirm=True)
    sprint.refresh_from_db()
    assert sprint.state == SprintState.CLOSED and sprint.velocity == D("5")
    for card in (doing, todo):
        card.refresh_from_db()
        assert card.sprint == nxt
    done.refresh_from_db()
    assert done.sprint == sprint
    removed = ScopeChange.objects.filter(sprint=sprint, change="removed")
    assert set(removed.values_list("card", flat=True)) == {doing.pk, todo.pk}
    assert all("Carried over" in r.reason for r in removed)
    # The carry-over is the sprint ending, not scope change during it.
    assert selectors.sprint_panel(sprint).panel.planned_scope == D("10.0")


def test_close_to_backlog(sprint, make_card, po_user):
    card = make_card(estimate=3, category=ColumnCategory.READY)
    services.card_sprint_set(card=card, sprint=sprint, actor=po_user)
    services.sprint_start(sprint=sprint, actor=po_user, confirm=True)
    services.sprint_close(sprint=sprint, actor=po_user, confirm=True)
    card.refresh_from_db()
    assert card.sprint is None


def test_points_capacity_uses_velocity_history(team, board, po_user, make_card):
    import datetime

    start = datetime.date(2026, 1, 5)
    for i, velocity in enumerate((12, 18, 15)):
        s = services.sprint_create(
            team=team, name=f"H{i}", start=start + timedelta(days=14 * i), board=board, actor=po_user
        )
        services.card_sprint_set(
            card=make_card(estimate=velocity, category=ColumnCategory.DONE), sprint=s, actor=po_user
        )
        services.sprint_start(sprint=s, actor=po_user, confirm=True)
        services.sprint_close(sprint=s, actor=po_user, confirm=True)
    now = services.sprint_create(
        team=team, name="Now", start=start + timedelta(days=42), board=board, actor=po_user
    )
    member = now.members.order_by("pk").first()
    services.sprint_member_update(member=member, actor=po_user, days_off=5)
    cap = selectors.sprint_capacity_get(now)
    # history: 45 points over 3 x 24 focused days = 0.625/day; now 24 - 5*0.8 = 20 days -> 12.5
    assert cap.basis == "velocity"
    assert cap.capacity == D("12.5")


def test_availability_validation(sprint, po_user):
    member = sprint.members.first()
    with pytest.raises(ValidationError) as exc:
        services.sprint_member_update(member=member, actor=po_user, days_off=11, focus_factor="1.5")
    assert {"days_off", "focus_factor"} <= set(exc.value.message_dict)


@pytest.mark.parametrize("value", ["NaN", "sNaN"])
def test_availability_and_estimate_that_are_not_numbers_are_field_errors(sprint, make_card, po_user, value):
    # Decimal("NaN") compared with a bound raises InvalidOperation: before, a 500.
    member = sprint.members.first()
    with pytest.raises(ValidationError) as exc:
        services.sprint_member_update(member=member, actor=po_user, days_off=value, hours_per_day="Infinity")
    assert set(exc.value.message_dict) == {"days_off", "hours_per_day"}
    card = make_card(estimate=3)
    with pytest.raises(ValidationError) as exc:
        services.card_estimate_set(card=card, estimate=value, actor=po_user)
    assert "estimate" in exc.value.message_dict
    card.refresh_from_db()
    assert card.estimate == D("3")


def test_at_risk_on_the_live_panel_follows_rank(sprint, make_card, po_user):
    sprint.team.support_allocation_percent = 0
    sprint.team.save()
    # capacity 24 (no history); five committed cards of 6 in rank order; an escalation of 6
    cards = [make_card(estimate=6, backlog_rank=r) for r in (50, 10, 40, 20, 30)]
    for c in cards:
        services.card_sprint_set(card=c, sprint=sprint, actor=po_user)
    services.sprint_start(sprint=sprint, actor=po_user, confirm=True)
    services.card_sprint_set(
        card=make_card(estimate=6), sprint=sprint, actor=po_user, source=WorkSource.ESCALATION
    )
    sprint.refresh_from_db()
    panel = selectors.sprint_panel(sprint).panel
    # line = 24 - 6 = 18: ranks 10, 20, 30 fit; 40 and 50 are at risk
    assert panel.at_risk == [cards[2].pk, cards[0].pk]
    assert panel.overcommitted_by == D("12.0")


def test_team_settings_validation(team, po_user):
    with pytest.raises(ValidationError) as exc:
        services.team_settings_update(
            team=team, actor=po_user, support_allocation_percent=120, default_estimates={"P9": 1}
        )
    assert {"support_allocation_percent", "default_estimates"} <= set(exc.value.message_dict)
    services.team_settings_update(
        team=team, actor=po_user, capacity_unit="hours", default_estimates={"P1": "8", "P2": 5}
    )
    team.refresh_from_db()
    assert team.capacity_unit == "hours" and team.default_estimates == {"P1": 8, "P2": 5}


def test_hours_team_counts_logged_support_time(sprint, team, make_card, po_user):
    from django.utils import timezone

    from incidents.models import TimeEntry

    team.capacity_unit = "hours"
    team.save()
    services.card_sprint_set(card=make_card(estimate=20), sprint=sprint, actor=po_user)
    services.sprint_start(sprint=sprint, actor=po_user, confirm=True)
    dev = team.members.first()
    from incidents.models import Incident
    from tests.factories import ServiceFactory

    service = ServiceFactory()
    inc = Incident.objects.create(
        key="INC-T1", title="x", service=service, team=service.support_team, created_at=timezone.now()
    )
    TimeEntry.objects.create(incident=inc, user=dev, minutes=150, created_at=timezone.now())
    sprint.refresh_from_db()
    panel = selectors.sprint_panel(sprint).panel
    assert panel.unplanned_by_source == {"support_time": D("2.5")}
    assert panel.completed == D("2.5")


def test_rerank_and_rank_top(sprint, make_card, po_user):
    a, b, c = make_card(backlog_rank=10), make_card(backlog_rank=20), make_card(backlog_rank=30)
    services.cards_rerank(cards=[c, a], actor=po_user)
    a.refresh_from_db(), c.refresh_from_db()
    assert (c.backlog_rank, a.backlog_rank) == (10, 30)  # their own ranks, swapped; b untouched
    services.cards_rank_top(cards=[b], actor=po_user)
    b.refresh_from_db()
    assert b.backlog_rank < 10
