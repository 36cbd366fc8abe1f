"""Problem services on the real database: create, edit, lifecycle, links, escalation with one
card, back-sync to every incident, resolving the incidents together."""

import pytest
from django.core.exceptions import ValidationError

from boards.models import CardIncident, ColumnCategory
from boards.services import card_cancel, card_move
from escalation.models import Escalation
from incidents.models import HoldReason, IncidentEvent, Status
from mail.models import MailKind, OutboundMail
from problems.models import Problem, ProblemEvent, ProblemStatus
from problems.services import (
    problem_create,
    problem_escalate_to_development,
    problem_escalation_preview,
    problem_link_incidents,
    problem_resolve_incidents,
    problem_transition,
    problem_unlink_incident,
    problem_update,
)
from tests.boards.factories import column_of
from tracker.exceptions import DomainError, TransitionNotAllowed

pytestmark = pytest.mark.django_db


def events(problem):
    return list(ProblemEvent.objects.filter(problem=problem).values_list("event", flat=True))


def test_create_from_several_incidents_allocates_keys_and_links_them(log_incident, engineer_user, service):
    a, b = log_incident(title="Login loops on Safari"), log_incident(title="Safari login loop")
    first = problem_create(actor=engineer_user, title="Safari login loop", incidents=[a, b, a])
    second = problem_create(actor=engineer_user, title="Another")
    assert first.key.startswith("PRB-") and second.key != first.key
    assert int(second.key.split("-")[1]) == int(first.key.split("-")[1]) + 1
    assert set(first.incidents.values_list("pk", flat=True)) == {a.pk, b.pk}
    assert first.service == service  # the incidents' service
    assert first.status == ProblemStatus.NEW
    assert events(first) == ["created", "incident_linked", "incident_linked"]
    # each incident's own history notes the link
    assert IncidentEvent.objects.filter(incident=a, event="problem_linked", new=first.key).exists()


def test_create_refuses_an_incident_of_another_problem_and_writes_nothing(log_incident, engineer_user):
    incident = log_incident()
    owner = problem_create(actor=engineer_user, title="First", incidents=[incident])
    with pytest.raises(ValidationError) as exc:
        problem_create(actor=engineer_user, title="Second", incidents=[incident])
    assert f"already belongs to {owner.key}" in str(exc.value.message_dict["incidents"])
    assert Problem.objects.count() == 1


def test_create_needs_a_title(engineer_user):
    with pytest.raises(ValidationError) as exc:
        problem_create(actor=engineer_user, title="  ")
    assert "title" in exc.value.message_dict


def test_link_reports_linked_already_and_refused_per_incident(log_incident, engineer_user, desk_user):
    a, b, c = log_incident(), log_incident(), log_incident()
    problem = problem_create(actor=engineer_user, title="P", incidents=[a])
    other = problem_create(actor=engineer_user, title="Other", incidents=[c])
    result = problem_link_incidents(problem=problem, incidents=[a, b, c], actor=desk_user)
    assert [i.pk for i in result.linked] == [b.pk]
    assert [i.pk for i in result.already] == [a.pk]
    assert other.key in result.refused[c.key]
    assert set(problem.incidents.values_list("pk", flat=True)) == {a.pk, b.pk}


def test_a_closed_problem_takes_no_incidents(log_incident, engineer_user):
    problem = problem_create(actor=engineer_user, title="P")
    problem_transition(problem=problem, actor=engineer_user, status="closed")
    with pytest.raises(TransitionNotAllowed):
        problem_link_incidents(problem=problem, incidents=[log_incident()], actor=engineer_user)


def test_unlink(log_incident, engineer_user):
    incident = log_incident()
    problem = problem_create(actor=engineer_user, title="P", incidents=[incident])
    problem_unlink_incident(problem=problem, incident=incident, actor=engineer_user, note="Other cause")
    assert not problem.incidents.exists()
    assert IncidentEvent.objects.filter(incident=incident, event="problem_unlinked").exists()
    with pytest.raises(ValidationError):
        problem_unlink_incident(problem=problem, incident=incident, actor=engineer_user)


def test_a_workaround_makes_a_known_error_and_clearing_it_undoes_that(engineer_user):
    problem = problem_create(actor=engineer_user, title="P")
    problem = problem_update(problem=problem, actor=engineer_user, workaround="Clear the cookies")
    assert problem.status == ProblemStatus.KNOWN_ERROR and problem.is_known_error
    assert problem.known_error_at is not None
    # the second save of the same form changes nothing
    version = problem.version
    problem = problem_update(problem=problem, actor=engineer_user, workaround="Clear the cookies")
    assert problem.version == version
    problem = problem_update(problem=problem, actor=engineer_user, workaround="")
    assert problem.status == ProblemStatus.INVESTIGATING
    fields = list(
        ProblemEvent.objects.filter(problem=problem, event="field_changed").values_list("field", flat=True)
    )
    assert fields == ["workaround", "workaround"]


def test_created_with_a_workaround_it_is_a_known_error(engineer_user):
    assert (
        problem_create(actor=engineer_user, title="P", workaround="Retry").status == ProblemStatus.KNOWN_ERROR
    )


def test_update_refuses_unknown_fields_and_a_stale_version(engineer_user):
    problem = problem_create(actor=engineer_user, title="P")
    with pytest.raises(ValidationError):
        problem_update(problem=problem, actor=engineer_user, status="closed")
    with pytest.raises(DomainError):
        problem_update(
            problem=problem, actor=engineer_user, title="New", expected_version=problem.version + 5
        )


def test_transitions_follow_the_lifecycle(engineer_user):
    problem = problem_create(actor=engineer_user, title="P")
    with pytest.raises(ValidationError) as exc:
        problem_transition(problem=problem, actor=engineer_user, status="known_error")
    assert "workaround" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        problem_transition(problem=problem, actor=engineer_user, status="resolved")
    assert "root_cause" in exc.value.message_dict
    problem = problem_transition(
        problem=problem, actor=engineer_user, status="known_error", workaround="Retry"
    )
    with pytest.raises(TransitionNotAllowed):
        problem_transition(problem=problem, actor=engineer_user, status="investigating")
    problem = problem_transition(problem=problem, actor=engineer_user, status="resolved", root_cause="A race")
    assert problem.resolved_at is not None
    # reopened: a problem with a workaround is a known error again
    problem = problem_transition(problem=problem, actor=engineer_user, status="investigating")
    assert problem.status == ProblemStatus.KNOWN_ERROR and problem.resolved_at is None
    problem = problem_transition(problem=problem, actor=engineer_user, status="closed")
    with pytest.raises(TransitionNotAllowed):
        problem_transition(problem=problem, actor=engineer_user, status="investigating")
    with pytest.raises(TransitionNotAllowed):
        problem_update(problem=problem, actor=engineer_user, title="Renamed")


# ------------------------------------------------------------------ development
@pytest.fixture
def escalated(sla_policies, tier2_incident, engineer_user, board, active_sprint):
    """A problem of three incidents (P2, P3, P3) escalated to development."""
    urgent = tier2_incident(impact="high", urgency="medium")  # P2
    low = [tier2_incident(impact="medium", urgency="medium") for _ in range(2)]  # P3
    problem = problem_create(actor=engineer_user, title="Card payments fail", incidents=[*low, urgent])
    result = problem_escalate_to_development(
        problem=problem, actor=engineer_user, note="Stack trace attached"
    )
    return problem, result, [urgent, *low]


def test_escalating_makes_one_card_for_every_incident(escalated, active_sprint, board):
    problem, result, incidents = escalated
    card = result.card
    assert card.title.startswith(problem.key)
    assert card.type == "production_defect"
    # placed by the most urgent incident (P2): expedite, the active sprint
    assert card.class_of_service == "expedite" and card.sprint_id == active_sprint.pk
    assert result.placement == "expedite" and result.sprint_impact is not None
    assert {i.pk for i in result.escalated} == {i.pk for i in incidents}
    assert set(CardIncident.objects.filter(card=card).values_list("incident_id", flat=True)) == {
        i.pk for i in incidents
    }
    for incident in incidents:
        incident.refresh_from_db()
        assert (incident.status, incident.hold_reason, incident.tier) == (
            Status.ON_HOLD,
            HoldReason.AWAITING_DEVELOPMENT,
            3,
        )
        assert Escalation.objects.get(incident=incident).card_id == card.pk
    problem.refresh_from_db()
    assert problem.card_id == card.pk and problem.status == ProblemStatus.INVESTIGATING
    # the card's SLA clock is the earliest of its incidents' (the P2's)
    assert incidents[0].sla_due_at < incidents[1].sla_due_at
    assert result.sprint_impact["sla_due_at"] == min(i.sla_due_at for i in incidents).isoformat()
    with pytest.raises(DomainError) as exc:
        problem_escalate_to_development(problem=problem, actor=None)
    assert exc.value.code == "already_escalated"


def test_preview_writes_nothing(tier2_incident, engineer_user, board):
    problem = problem_create(actor=engineer_user, title="P", incidents=[tier2_incident()])
    preview = problem_escalation_preview(problem=problem, actor=engineer_user)
    assert preview.card.key
    problem.refresh_from_db()
    assert problem.card_id is None and not Escalation.objects.exists()


def test_an_incident_linked_later_joins_the_card(escalated, tier2_incident, engineer_user):
    problem, result, _ = escalated
    late = tier2_incident()
    link = problem_link_incidents(problem=problem, incidents=[late], actor=engineer_user)
    assert [i.pk for i in link.escalated] == [late.pk]
    late.refresh_from_db()
    assert late.hold_reason == HoldReason.AWAITING_DEVELOPMENT
    assert CardIncident.objects.filter(card=result.card, incident=late).exists()


def test_an_incident_waiting_on_another_card_is_skipped(tier2_incident, engineer_user, board):
    from escalation.services import incident_escalate_to_development

    elsewhere = tier2_incident()
    other_card = incident_escalate_to_development(incident=elsewhere, actor=engineer_user).card
    problem = problem_create(actor=engineer_user, title="P", incidents=[elsewhere, tier2_incident()])
    result = problem_escalate_to_development(problem=problem, actor=engineer_user)
    assert other_card.key in result.skipped[elsewhere.key]
    assert len(result.escalated) == 1


def test_card_done_returns_every_incident_and_tells_the_problem(
    escalated, developer_user, board, manager_user
):
    from notifications.models import Notification

    problem, result, incidents = escalated
    problem_update(problem=problem, actor=manager_user, owner=manager_user)
    card_move(card=result.card, column=column_of(board, ColumnCategory.DONE), actor=developer_user)
    for incident in incidents:
        incident.refresh_from_db()
        assert incident.status == Status.IN_PROGRESS
        assert incident.comments.filter(is_system=True, body__contains=result.card.key).exists()
    assert "development_done" in events(problem)
    assert Notification.objects.filter(recipient=manager_user, title__startswith=problem.key).exists()


def test_a_cancelled_card_lets_the_problem_escalate_again(escalated, developer_user, engineer_user):
    problem, result, _ = escalated
    card_cancel(card=result.card, actor=developer_user, reason="Wrong board")
    assert "development_cancelled" in events(problem)
    again = problem_escalate_to_development(problem=problem, actor=engineer_user)
    assert again.card.pk != result.card.pk and len(again.escalated) == 3


# ------------------------------------------------------------------ resolving together
def test_resolving_the_incidents_together_mails_each_requester_once(
    customer_incident, engineer_user, desk_user, customers, django_capture_on_commit_callbacks
):
    mine = [customer_incident(customer=c) for c in customers[:2]]
    already = customer_incident()
    problem = problem_create(actor=engineer_user, title="P", incidents=[*mine, already])
    outsider = customer_incident()
    from incidents.services import incident_transition

    incident_transition(
        incident=already, actor=engineer_user, status="resolved", resolution_code="fixed", note="x"
    )
    with django_capture_on_commit_callbacks():
        outcome = problem_resolve_incidents(
            problem=problem,
            incidents=[*mine, already, outsider],
            actor=engineer_user,
            resolution_code="fixed",
            note="Fixed in release 4.2",
        )
    assert {i.pk for i in outcome.done} == {i.pk for i in mine}
    assert set(outcome.refused) == {already.key, outsider.key}
    assert "not linked" in outcome.refused[outsider.key]
    for incident in mine:
        incident.refresh_from_db()
        assert incident.status == Status.RESOLVED and incident.resolution_note == "Fixed in release 4.2"
        assert OutboundMail.objects.filter(incident=incident, kind=MailKind.RESOLUTION).count() == 1
    # the desk (not the incidents' group) may not resolve them: refused one by one
    again = customer_incident()
    problem_link_incidents(problem=problem, incidents=[again], actor=engineer_user)
    outcome = problem_resolve_incidents(problem=problem, incidents=[again], actor=desk_user, note="Done")
    assert not outcome.done and "not yours" in outcome.refused[again.key]


def test_resolving_needs_a_note_and_a_fitting_code(customer_incident, engineer_user):
    problem = problem_create(actor=engineer_user, title="P", incidents=[customer_incident()])
    with pytest.raises(ValidationError) as exc:
        problem_resolve_incidents(
            problem=problem, incidents=[], actor=engineer_user, resolution_code="duplicate"
        )
    assert set(exc.value.message_dict) == {"resolution_code", "note"}
