"""Change requests: submission and each triage decision through the service."""

import pytest
from django.core.exceptions import ValidationError

from boards.models import CardType, ClassOfService, ColumnCategory, LaneKind
from changes.models import ChangeEvent, ChangeStatus, Kind
from changes.services import change_request_create, change_request_triage
from sprints.models import ScopeChange, SprintState, WorkSource
from tracker.exceptions import TransitionNotAllowed

pytestmark = pytest.mark.django_db


def test_create_links_incidents_and_takes_their_development_team(make_incident, engineer_user, dev_team):
    incident = make_incident()
    change = change_request_create(title="Retry webhooks", actor=engineer_user, incidents=[incident])
    assert change.key.startswith("CR-")
    assert change.status == ChangeStatus.SUBMITTED
    assert change.team == dev_team
    assert list(change.incidents.all()) == [incident]
    assert ChangeEvent.objects.filter(change=change, event="submitted").exists()


def test_create_validates_fields(engineer_user):
    with pytest.raises(ValidationError) as err:
        change_request_create(title=" ", actor=engineer_user, kind="urgent", source="nowhere")
    assert set(err.value.message_dict) == {"title", "kind", "source", "team"}


def test_emergency_needs_justification(engineer_user, dev_team):
    with pytest.raises(ValidationError) as err:
        change_request_create(title="Hotfix", actor=engineer_user, kind=Kind.EMERGENCY, team=dev_team)
    assert "justification" in err.value.message_dict


def test_accept_creates_a_change_card_at_the_bottom_of_the_backlog(board, dev_team, po_user, engineer_user):
    first = change_request_create(title="First", actor=engineer_user, team=dev_team)
    second = change_request_create(title="Second", actor=engineer_user, team=dev_team)
    change_request_triage(change=first, decision="accept", actor=po_user)
    change_request_triage(change=second, decision="accept", actor=po_user)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == ChangeStatus.ACCEPTED
    assert first.card.type == CardType.CHANGE
    assert first.card.column.category == ColumnCategory.BACKLOG
    assert first.card.sprint is None
    assert second.card.backlog_rank > first.card.backlog_rank
    assert first.decided_by == po_user


def test_schedule_into_an_active_sprint_is_logged_as_scope_change(
    make_sprint, dev_team, po_user, engineer_user
):
    sprint = make_sprint(state=SprintState.ACTIVE)
    change = change_request_create(title="Add export", actor=engineer_user, team=dev_team)
    change_request_triage(
        change=change, decision="schedule", sprint=sprint, actor=po_user, reason="Customer deal"
    )
    change.refresh_from_db()
    assert change.status == ChangeStatus.SCHEDULED
    assert change.card.sprint == sprint
    log = ScopeChange.objects.get(sprint=sprint, card=change.card)
    assert log.change == "added"
    assert log.actor == po_user


def test_schedule_needs_a_sprint_of_the_team(make_sprint, dev_team, po_user, engineer_user):
    change = change_request_create(title="Add export", actor=engineer_user, team=dev_team)
    with pytest.raises(ValidationError) as err:
        change_request_triage(change=change, decision="schedule", actor=po_user)
    assert "sprint" in err.value.message_dict
    change.refresh_from_db()
    assert change.status == ChangeStatus.SUBMITTED and change.card is None


@pytest.mark.parametrize("decision", ["reject", "defer"])
def test_reject_and_defer_need_a_reason_the_requester_sees(decision, dev_team, po_user, engineer_user):
    change = change_request_create(title="Dark mode", actor=engineer_user, team=dev_team)
    with pytest.raises(ValidationError) as err:
        change_request_triage(change=change, decision=decision, actor=po_user, reason="  ")
    assert "reason" in err.value.message_dict
    change_request_triage(change=change, decision=decision, actor=po_user, reason="Not this quarter")
    change.refresh_from_db()
    assert change.status == (ChangeStatus.REJECTED if decision == "reject" else ChangeStatus.DEFERRED)
    assert change.decision_reason == "Not this quarter"
    assert change.card is None


def test_rejected_is_final(dev_team, po_user, engineer_user):
    change = change_request_create(title="Dark mode", actor=engineer_user, team=dev_team)
    change_request_triage(change=change, decision="reject", actor=po_user, reason="No")
    with pytest.raises(TransitionNotAllowed) as err:
        change_request_triage(change=change, decision="accept", actor=po_user)
    assert "final" in str(err.value)


def test_deferred_can_be_accepted_later(board, dev_team, po_user, engineer_user):
    change = change_request_create(title="Later", actor=engineer_user, team=dev_team)
    change_request_triage(change=change, decision="defer", actor=po_user, reason="Next quarter")
    change_request_triage(change=change, decision="accept", actor=po_user)
    change.refresh_from_db()
    assert change.status == ChangeStatus.ACCEPTED and change.card is not None


def test_emergency_change_becomes_an_expedite_card_in_the_active_sprint(
    make_sprint, dev_team, po_user, engineer_user
):
    sprint = make_sprint(state=SprintState.ACTIVE)
    change = change_request_create(
        title="Block fraudulent BIN range",
        actor=engineer_user,
        team=dev_team,
        kind=Kind.EMERGENCY,
        justification="Active fraud attack",
    )
    change_request_triage(change=change, decision="accept", actor=po_user)
    change.refresh_from_db()
    card = change.card
    assert change.status == ChangeStatus.SCHEDULED
    assert change.approved_by == po_user
    assert card.class_of_service == ClassOfService.EXPEDITE
    assert card.lane.kind == LaneKind.EXPEDITE
    assert card.column.category == ColumnCategory.READY
    assert card.sprint == sprint
    log = ScopeChange.objects.get(sprint=sprint, card=card)
    assert log.source == WorkSource.EMERGENCY_CHANGE


def test_emergency_without_active_sprint_is_refused_and_nothing_written(
    board, dev_team, po_user, engineer_user
):
    change = change_request_create(
        title="Hotfix", actor=engineer_user, team=dev_team, kind=Kind.EMERGENCY, justification="Outage"
    )
    with pytest.raises(ValidationError):
        change_request_triage(change=change, decision="accept", actor=po_user)
    change.refresh_from_db()
    assert change.status == ChangeStatus.SUBMITTED
    assert board.cards.count() == 0


def test_accept_without_a_board_is_a_clear_error(dev_team, po_user, engineer_user):
    change = change_request_create(title="Orphan", actor=engineer_user, team=dev_team)
    with pytest.raises(ValidationError) as err:
        change_request_triage(change=change, decision="accept", actor=po_user)
    assert "no board" in str(err.value)


@pytest.mark.parametrize("estimate", ["NaN", "sNaN", "Infinity"])
def test_an_emergency_estimate_that_is_not_a_finite_number_is_a_field_error(
    make_sprint, dev_team, po_user, engineer_user, estimate
):
    # Decimal("NaN") < 0 raises InvalidOperation: before, this was a 500, not a field message.
    sprint = make_sprint(state=SprintState.ACTIVE)
    change = change_request_create(
        title="Hotfix", actor=engineer_user, team=dev_team, kind=Kind.EMERGENCY, justification="Outage"
    )
    with pytest.raises(ValidationError) as err:
        change_request_triage(change=change, decision="accept", actor=po_user, estimate=estimate)
    assert "estimate" in err.value.message_dict
    change.refresh_from_db()
    assert change.status == ChangeStatus.SUBMITTED and not ScopeChange.objects.filter(sprint=sprint).exists()


def test_emergency_without_linked_incident_reports_its_sprint_impact(
    make_sprint, dev_team, po_user, engineer_user
):
    make_sprint(state=SprintState.ACTIVE)
    change = change_request_create(
        title="Hotfix", actor=engineer_user, team=dev_team, kind=Kind.EMERGENCY, justification="Outage"
    )
    decided = change_request_triage(change=change, decision="accept", actor=po_user, estimate="2")
    assert decided.sprint_impact is not None and decided.sprint_impact["estimate"] == 2.0
