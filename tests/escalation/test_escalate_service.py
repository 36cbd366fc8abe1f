"""Escalation to development: placement, sprint impact, atomicity, concurrency, back-sync."""

import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection

from boards.models import Card, CardIncident, CardType, ColumnCategory, LaneKind
from boards.services import card_create
from escalation.models import Escalation, Outcome, Placement
from escalation.services import (
    escalation_preview,
    escalations_on_card_cancelled,
    escalations_on_card_done,
    incident_escalate_to_development,
)
from incidents.models import HoldReason, IncidentEvent, Status
from incidents.services import incident_assign, incident_escalate
from sprints.models import ScopeChange, WorkSource
from tracker.exceptions import DomainError, TransitionNotAllowed

pytestmark = pytest.mark.django_db


def _to_tier2(incident, engineer_user, support_team, desk_user):
    incident = incident_escalate(incident=incident, actor=desk_user, team=support_team, note="Needs tier 2")
    return incident_assign(incident=incident, actor=engineer_user, assignee=engineer_user)


def test_p2_goes_to_top_of_ready_in_expedite_lane_and_into_the_active_sprint(
    log_incident, engineer_user, support_team, desk_user, board, dev_team, active_sprint
):
    incident = _to_tier2(log_incident(), engineer_user, support_team, desk_user)
    assert incident.priority == "P2"
    result = incident_escalate_to_development(
        incident=incident, actor=engineer_user, note="Stack trace attached"
    )
    card = Card.objects.select_related("column", "lane").get(pk=result.card.pk)
    assert card.type == CardType.PRODUCTION_DEFECT
    assert card.column.category == ColumnCategory.READY and card.lane.kind == LaneKind.EXPEDITE
    first_in_cell = Card.objects.filter(column=card.column, lane=card.lane).order_by("rank").first()
    assert first_in_cell == card
    assert card.estimate == Decimal("3")  # the team's default for P2
    assert card.sprint == active_sprint
    scope = ScopeChange.objects.get(sprint=active_sprint, card=card)
    assert scope.source == WorkSource.ESCALATION and scope.change == "added"
    assert scope.estimate_delta == Decimal("3")

    incident.refresh_from_db()
    # Support keeps the case (SPEC §7): tier 3, but the group and the assignee stay.
    assert incident.team == support_team and incident.assignee == engineer_user and incident.tier == 3
    assert result.escalation.to_team == dev_team
    assert incident.status == Status.ON_HOLD and incident.hold_reason == HoldReason.AWAITING_DEVELOPMENT
    assert CardIncident.objects.filter(card=card, incident=incident).exists()
    assert IncidentEvent.objects.filter(
        incident=incident, event="escalated_to_development", new=card.key
    ).exists()
    assert result.escalation.placement == Placement.EXPEDITE

    impact = result.sprint_impact
    assert impact["sprint"]["id"] == active_sprint.pk
    assert impact["estimate"] == 3.0
    assert impact["unplanned_after"] == impact["unplanned_before"] + 3.0
    assert impact["support_reserve_remaining_after"] == impact["support_reserve_remaining_before"] - 3.0
    assert impact["sla_due_before_sprint_end"] in (True, False, None)


def test_p4_goes_to_the_backlog_unless_asked_for_the_sprint(
    log_incident, engineer_user, board, active_sprint
):
    quiet = log_incident(impact="medium", urgency="low", title="Typo on receipt")
    result = incident_escalate_to_development(incident=quiet, actor=engineer_user)
    card = Card.objects.select_related("column", "lane").get(pk=result.card.pk)
    assert quiet.priority == "P4"
    assert card.column.category == ColumnCategory.BACKLOG and card.lane.kind == LaneKind.STANDARD
    assert card.sprint is None and result.sprint_impact is None
    assert result.escalation.placement == Placement.BACKLOG

    asked = log_incident(impact="medium", urgency="low", title="Wrong currency symbol")
    result = incident_escalate_to_development(
        incident=asked, actor=engineer_user, into_sprint=True, estimate=2
    )
    assert result.card.sprint == active_sprint
    assert result.escalation.placement == Placement.SPRINT
    assert result.sprint_impact["estimate"] == 2.0


def test_escalation_can_push_committed_cards_below_the_capacity_line(
    log_incident, engineer_user, board, active_sprint
):
    result = incident_escalate_to_development(incident=log_incident(), actor=engineer_user, estimate=40)
    impact = result.sprint_impact
    assert impact["exceeds_support_reserve"] is True
    assert impact["newly_at_risk"], impact
    # 40 points of unplanned work is more than the whole sprint: every committed story is at risk
    stories = set(Card.objects.filter(title__startswith="Story").values_list("pk", flat=True))
    assert set(impact["at_risk"]) == stories
    assert {c["title"] for c in impact["newly_at_risk"]} <= {"Story 0", "Story 1", "Story 2"}


def test_linking_an_existing_card_shares_it_between_incidents(
    log_incident, engineer_user, board, active_sprint
):
    first = incident_escalate_to_development(incident=log_incident(title="Timeouts A"), actor=engineer_user)
    second = incident_escalate_to_development(
        incident=log_incident(title="Timeouts B"), actor=engineer_user, card=first.card
    )
    assert second.card == first.card
    assert second.escalation.placement == Placement.LINKED
    assert first.card.incident_links.count() == 2
    assert ScopeChange.objects.filter(card=first.card).count() == 1  # joined the sprint once


def test_closed_or_already_escalated_incidents_are_refused(log_incident, engineer_user, board):
    incident = log_incident()
    incident_escalate_to_development(incident=incident, actor=engineer_user)
    with pytest.raises(DomainError) as err:
        incident_escalate_to_development(incident=incident, actor=engineer_user)
    assert err.value.code == "already_escalated"
    other = log_incident()
    from incidents.services import incident_transition

    incident_transition(incident=other, actor=engineer_user, status="cancelled", reason="dup")
    with pytest.raises(TransitionNotAllowed):
        incident_escalate_to_development(incident=other, actor=engineer_user)


def test_failure_after_the_card_is_created_leaves_nothing(
    log_incident, engineer_user, board, active_sprint, monkeypatch
):
    incident = log_incident()
    import escalation.services as svc

    def boom(**kwargs):
        raise RuntimeError("injected failure after card creation")

    monkeypatch.setattr(svc, "incident_transition", boom)
    cards_before = Card.objects.count()
    with pytest.raises(RuntimeError):
        incident_escalate_to_development(incident=incident, actor=engineer_user)
    assert Card.objects.count() == cards_before
    assert not CardIncident.objects.exists()
    assert not ScopeChange.objects.filter(source=WorkSource.ESCALATION).exists()
    assert not Escalation.objects.exists()
    incident.refresh_from_db()
    assert incident.status == Status.NEW and incident.tier == 1


def test_preview_writes_nothing_but_tells_the_same_story(log_incident, engineer_user, board, active_sprint):
    incident = log_incident()
    cards_before = Card.objects.count()
    preview = escalation_preview(incident=incident, actor=engineer_user)
    assert Card.objects.count() == cards_before
    assert not Escalation.objects.exists()
    incident.refresh_from_db()
    assert incident.status == Status.NEW
    real = incident_escalate_to_development(incident=incident, actor=engineer_user)
    assert preview.sprint_impact == real.sprint_impact


@pytest.mark.django_db(transaction=True)
def test_concurrent_escalations_of_one_incident_create_one_card(
    log_incident, engineer_user, board, active_sprint
):
    incident = log_incident()
    barrier = threading.Barrier(2)
    outcomes = []

    def escalate():
        try:
            barrier.wait()
            incident_escalate_to_development(incident=incident, actor=engineer_user)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - reported in the assertion below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=escalate) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_escalated", "ok"]
    assert Card.objects.filter(type=CardType.PRODUCTION_DEFECT).count() == 1
    assert Escalation.objects.count() == 1


def test_card_done_returns_incident_to_support_with_a_note(
    log_incident,
    engineer_user,
    support_team,
    desk_user,
    board,
    active_sprint,
    django_capture_on_commit_callbacks,
):
    incident = _to_tier2(log_incident(), engineer_user, support_team, desk_user)
    result = incident_escalate_to_development(incident=incident, actor=engineer_user)
    with django_capture_on_commit_callbacks() as callbacks:
        escalations_on_card_done(card=result.card, actor=None)
    assert len(callbacks) == 1  # the e-mail batch is queued after commit, once
    incident.refresh_from_db()
    assert incident.team == support_team and incident.status == Status.IN_PROGRESS
    assert incident.assignee == engineer_user
    note = incident.comments.filter(is_system=True).last()
    assert result.card.key in note.body
    escalation = Escalation.objects.get()
    assert escalation.outcome == Outcome.DONE and escalation.returned_at is not None
    from notifications.models import Notification
    from notifications.services import notifications_send_email

    (notice,) = Notification.objects.filter(recipient=engineer_user, incident=incident, kind="fix_returned")
    assert result.card.key in notice.title
    assert notifications_send_email([notice.pk]) == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [engineer_user.email]
    # a second call is harmless
    escalations_on_card_done(card=result.card, actor=None)
    assert incident.comments.filter(is_system=True).count() == 1


def test_team_setting_resolves_automatically(log_incident, engineer_user, dev_team, board):
    dev_team.auto_resolve_on_done = True
    dev_team.save()
    incident = log_incident()
    result = incident_escalate_to_development(incident=incident, actor=engineer_user)
    escalations_on_card_done(card=result.card, actor=None)
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED and incident.resolution_code == "fixed"


def test_cancelled_card_returns_incident_to_queue_unresolved(log_incident, engineer_user, dev_team, board):
    dev_team.auto_resolve_on_done = True
    dev_team.save()
    incident = log_incident()
    result = incident_escalate_to_development(incident=incident, actor=engineer_user)
    escalations_on_card_cancelled(card=result.card, actor=None)
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS and incident.tier == 1
    assert Escalation.objects.get().outcome == Outcome.CANCELLED


def test_escalation_without_board_is_a_clear_400(log_incident, engineer_user, dev_team):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        incident_escalate_to_development(incident=log_incident(), actor=engineer_user)
    assert "no board" in str(err.value)


def test_link_card_of_other_team_is_refused(log_incident, engineer_user, board):
    from tests.boards.factories import BoardFactory

    other = BoardFactory(name="Other board")
    foreign = card_create(board=other, title="Elsewhere", actor=None)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        incident_escalate_to_development(incident=log_incident(), actor=engineer_user, card=foreign)
    assert "card" in err.value.message_dict
