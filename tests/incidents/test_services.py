"""The incident service layer: priority matrix, the whole transition table, escalation,
swarming, links, optimistic versions and history rows."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents import services
from incidents.models import Comment, Incident, IncidentEvent, Status, TimeEntry
from incidents.services import ALLOWED_TRANSITIONS
from tracker.exceptions import DomainError, StaleObject, TransitionNotAllowed

pytestmark = pytest.mark.django_db

# Extra input each target needs to be a valid request.
TARGET_INPUT = {
    Status.ON_HOLD: {"reason": "awaiting_customer"},
    Status.RESOLVED: {"resolution_code": "fixed", "note": "Restarted the gateway."},
    Status.CANCELLED: {"reason": "Logged twice by mistake."},
}

# How to bring a fresh incident into each state through the services.
PATH_TO = {
    Status.NEW: [],
    Status.IN_PROGRESS: [Status.IN_PROGRESS],
    Status.ON_HOLD: [Status.ON_HOLD],
    Status.RESOLVED: [Status.RESOLVED],
    Status.CLOSED: [Status.RESOLVED, Status.CLOSED],
    Status.CANCELLED: [Status.CANCELLED],
}


def _bring_to(incident, state, actor):
    for step in PATH_TO[state]:
        incident = services.incident_transition(
            incident=incident, actor=actor, status=step, **TARGET_INPUT.get(step, {})
        )
    return incident


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        ("high", "high", "P1"),
        ("high", "medium", "P2"),
        ("high", "low", "P3"),
        ("medium", "high", "P2"),
        ("medium", "medium", "P3"),
        ("medium", "low", "P4"),
        ("low", "high", "P3"),
        ("low", "medium", "P4"),
        ("low", "low", "P5"),
    ],
)
def test_priority_follows_the_impact_urgency_matrix(log_incident, impact, urgency, expected):
    incident = log_incident(impact=impact, urgency=urgency)
    assert incident.priority == expected


def test_create_gives_a_human_key_team_tier_and_a_created_event(log_incident, org):
    incident = log_incident()
    request = log_incident(type="service_request", title="Audit data set for Q3")
    assert incident.key.startswith("INC-") and request.key.startswith("REQ-")
    assert incident.team == org.t1 and incident.tier == 1 and incident.status == Status.NEW
    assert incident.reporter == org.desk
    assert list(incident.events.values_list("event", flat=True)) == ["created"]


def test_create_rejects_missing_and_invalid_fields(org):
    with pytest.raises(ValidationError) as exc:
        services.incident_create(actor=org.desk, title=" ", service=None, impact="huge", urgency="low")
    assert set(exc.value.message_dict) == {"title", "service", "impact"}
    assert Incident.objects.count() == 0


@pytest.mark.parametrize("source", list(Status))
@pytest.mark.parametrize("target", list(Status))
def test_transition_table_every_state_to_every_target(log_incident, org, source, target):
    incident = _bring_to(log_incident(), source, org.desk)
    assert incident.status == source
    events_before = IncidentEvent.objects.filter(incident=incident).count()
    if target in ALLOWED_TRANSITIONS[source]:
        extra = TARGET_INPUT.get(target, {})
        if source == target == Status.ON_HOLD:
            extra = {"reason": "awaiting_vendor"}  # on hold -> on hold changes what it waits on
        result = services.incident_transition(incident=incident, actor=org.desk, status=target, **extra)
        result.refresh_from_db()
        assert result.status == target
        assert IncidentEvent.objects.filter(incident=incident, field="status", new=target).exists()
    else:
        with pytest.raises(TransitionNotAllowed) as exc:
            services.incident_transition(
                incident=incident, actor=org.desk, status=target, **TARGET_INPUT.get(target, {})
            )
        allowed = ALLOWED_TRANSITIONS[source]
        assert "Allowed next states" in exc.value.detail
        for name in allowed:
            assert name in exc.value.detail
        if not allowed:
            assert "none" in exc.value.detail
        incident.refresh_from_db()
        assert incident.status == source
        assert IncidentEvent.objects.filter(incident=incident).count() == events_before


def test_transition_table_covers_every_status():
    assert set(ALLOWED_TRANSITIONS) == set(Status.values)
    assert Status.CANCELLED in ALLOWED_TRANSITIONS[Status.NEW]
    assert Status.CANCELLED in ALLOWED_TRANSITIONS[Status.IN_PROGRESS]
    assert Status.CANCELLED not in ALLOWED_TRANSITIONS[Status.ON_HOLD]
    assert ALLOWED_TRANSITIONS[Status.RESOLVED] == (Status.IN_PROGRESS, Status.CLOSED)


@pytest.mark.parametrize(
    ("target", "kwargs", "field"),
    [
        (Status.ON_HOLD, {}, "reason"),
        (Status.ON_HOLD, {"reason": "waiting"}, "reason"),
        (Status.RESOLVED, {}, "resolution_code"),
        (Status.RESOLVED, {"resolution_code": "magic"}, "resolution_code"),
        (Status.CANCELLED, {"reason": "  "}, "reason"),
        ("sideways", {}, "status"),
    ],
)
def test_transition_needs_its_reason(log_incident, org, target, kwargs, field):
    incident = log_incident()
    with pytest.raises(ValidationError) as exc:
        services.incident_transition(incident=incident, actor=org.desk, status=target, **kwargs)
    assert field in exc.value.message_dict
    incident.refresh_from_db()
    assert incident.status == Status.NEW and incident.version == 1


def test_reopen_clears_the_resolution_and_hold_reason_is_cleared_on_resume(log_incident, org):
    incident = log_incident()
    incident = services.incident_transition(
        incident=incident, actor=org.desk, status="on_hold", reason="awaiting_vendor"
    )
    assert incident.hold_reason == "awaiting_vendor"
    incident = services.incident_transition(incident=incident, actor=org.desk, status="in_progress")
    assert incident.hold_reason == ""
    incident = services.incident_transition(
        incident=incident,
        actor=org.desk,
        status="resolved",
        resolution_code="workaround",
        note="Cleared cache.",
    )
    assert incident.resolved_at and incident.resolution_note == "Cleared cache."
    incident = services.incident_transition(incident=incident, actor=org.desk, status="in_progress")
    assert incident.resolved_at is None and incident.resolution_code == ""


def test_stale_version_is_refused_and_nothing_is_lost(log_incident, org):
    incident = log_incident()
    services.incident_take(incident=incident, actor=org.desk)  # version 1 -> 2
    with pytest.raises(StaleObject):
        services.incident_transition(
            incident=incident,
            actor=org.manager,
            status="on_hold",
            reason="awaiting_customer",
            expected_version=1,
        )
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS and incident.assignee == org.desk and incident.version == 2


def test_take_assigns_and_starts_work(log_incident, org):
    incident = services.incident_take(incident=log_incident(), actor=org.desk)
    assert incident.assignee == org.desk and incident.status == Status.IN_PROGRESS
    fields = set(incident.events.values_list("field", flat=True))
    assert {"assignee", "status"} <= fields


def test_assign_only_to_team_members(log_incident, org):
    incident = log_incident()
    with pytest.raises(ValidationError) as exc:
        services.incident_assign(incident=incident, actor=org.manager, assignee=org.engineer)
    assert "assignee" in exc.value.message_dict
    incident = services.incident_assign(incident=incident, actor=org.manager, assignee=org.desk)
    assert incident.assignee == org.desk


def test_escalation_needs_a_note_and_moves_team_and_tier(log_incident, org):
    incident = services.incident_take(incident=log_incident(), actor=org.desk)
    with pytest.raises(ValidationError) as exc:
        services.incident_escalate(incident=incident, actor=org.desk, team=org.t2, note="")
    assert "note" in exc.value.message_dict
    incident = services.incident_escalate(
        incident=incident, actor=org.desk, team=org.t2, note="Gateway logs attached."
    )
    assert incident.team == org.t2 and incident.tier == 2 and incident.assignee is None
    kinds = list(incident.events.values_list("event", flat=True))
    assert "escalated" in kinds
    escalation = incident.events.get(event="escalated")
    assert escalation.old == "Service Desk" and escalation.new == "Application Support"
    assert escalation.note == "Gateway logs attached."
    back = services.incident_escalate(incident=incident, actor=None, team=org.t1, note="Known error, KB-12.")
    assert back.tier == 1 and back.events.filter(event="de_escalated", actor=None).exists()


def test_escalating_to_the_same_team_or_a_closed_incident_is_refused(log_incident, org):
    incident = log_incident()
    with pytest.raises(ValidationError):
        services.incident_escalate(incident=incident, actor=org.desk, team=org.t1, note="x")
    incident = services.incident_transition(
        incident=incident, actor=org.desk, status="cancelled", reason="dup"
    )
    with pytest.raises(TransitionNotAllowed):
        services.incident_escalate(incident=incident, actor=org.desk, team=org.t2, note="x")


def test_swarm_incidents_are_joined_not_handed_off(log_incident, org):
    incident = log_incident(service=org.swarm)
    assert incident.team == org.swarm_team
    with pytest.raises(DomainError) as exc:
        services.incident_escalate(incident=incident, actor=org.engineer, team=org.t1, note="x")
    assert exc.value.code == "swarm_no_handoff"
    services.incident_swarm_join(incident=incident, actor=org.developer)
    services.incident_swarm_join(incident=incident, actor=org.developer)  # idempotent
    assert list(incident.participants.all()) == [org.developer]
    assert incident.events.filter(event="joined_swarm").count() == 1
    # A participant may be assigned even though not a member of the swarm team.
    incident = services.incident_assign(incident=incident, actor=org.manager, assignee=org.developer)
    assert incident.assignee == org.developer
    tiered = log_incident()
    with pytest.raises(DomainError):
        services.incident_swarm_join(incident=tiered, actor=org.developer)


def test_manager_priority_override_keeps_the_reason(log_incident, org):
    incident = log_incident(impact="low", urgency="low")
    with pytest.raises(ValidationError) as exc:
        services.incident_set_priority(incident=incident, actor=org.manager, priority="P1", reason="")
    assert "reason" in exc.value.message_dict
    incident = services.incident_set_priority(
        incident=incident, actor=org.manager, priority="P1", reason="Board-level customer"
    )
    assert incident.priority == "P1" and incident.priority_override_reason == "Board-level customer"
    event = incident.events.get(field="priority")
    assert (event.old, event.new, event.note) == ("P5", "P1", "Board-level customer")
    # An override survives a later impact change.
    incident = services.incident_update(incident=incident, actor=org.desk, data={"impact": "medium"})
    assert incident.priority == "P1"


def test_update_recomputes_priority_and_records_each_field(log_incident, org):
    incident = log_incident(impact="medium", urgency="medium")
    incident = services.incident_update(
        incident=incident, actor=org.desk, data={"urgency": "high", "title": "Checkout down for all"}
    )
    assert incident.priority == "P2"
    assert {"urgency", "title", "priority"} <= set(incident.events.values_list("field", flat=True))
    with pytest.raises(ValidationError):
        services.incident_update(incident=incident, actor=org.desk, data={"status": "closed"})


def test_declare_major_flags_and_queues_the_manager_mail_on_commit(
    log_incident, org, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "incidents.services.assignment.enqueue_on_commit", lambda task, *a: queued.append((task.name, a))
    )
    incident = log_incident()
    incident = services.incident_declare_major(incident=incident, actor=org.manager, note="All merchants")
    assert incident.is_major and incident.major_declared_at
    assert queued == [("incidents.tasks.incidents_notify_major", (incident.pk,))]
    again = services.incident_declare_major(incident=incident, actor=org.manager)
    assert again.is_major and incident.events.filter(event="declared_major").count() == 1
    assert len(queued) == 1


def test_notify_major_task_mails_managers_exactly_once(
    log_incident, org, mailoutbox, django_capture_on_commit_callbacks
):
    from incidents.tasks import incidents_notify_major

    incident = log_incident()
    Incident.objects.filter(pk=incident.pk).update(is_major=True)
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes out on commit
        assert incidents_notify_major(incident.pk) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert incidents_notify_major(incident.pk) == 0
    assert len(mailoutbox) == 1 and org.manager.email in mailoutbox[0].to
    assert incident.key in mailoutbox[0].subject


def test_public_reply_sets_first_response_and_notes_do_not(log_incident, org):
    incident = log_incident()
    services.incident_comment(incident=incident, actor=org.desk, body="Looking into it", public=False)
    incident.refresh_from_db()
    assert incident.responded_at is None
    services.incident_comment(incident=incident, actor=org.desk, body="We are on it.", public=True)
    incident.refresh_from_db()
    assert incident.responded_at is not None
    assert Comment.objects.filter(incident=incident).count() == 2
    with pytest.raises(ValidationError):
        services.incident_comment(incident=incident, actor=org.desk, body="  ", public=True)


def test_time_is_logged_per_person_and_validated(log_incident, org):
    incident = log_incident()
    services.incident_log_time(incident=incident, actor=org.desk, minutes=25, note="Triage")
    services.incident_log_time(incident=incident, actor=org.engineer, minutes=40)
    assert sorted(TimeEntry.objects.values_list("user__username", "minutes")) == [
        ("desk", 25),
        ("engineer", 40),
    ]
    for bad in (0, -5, "ten", 100000):
        with pytest.raises(ValidationError):
            services.incident_log_time(incident=incident, actor=org.desk, minutes=bad)


def test_merge_duplicate_resolves_child_and_marks_parent(log_incident, org):
    parent, child = log_incident(), log_incident(title="Payments failing")
    child = services.incident_merge_duplicate(incident=child, actor=org.desk, parent=parent)
    assert child.parent == parent and child.status == Status.RESOLVED and child.resolution_code == "duplicate"
    assert parent.events.filter(event="duplicate_merged", new=child.key).exists()
    with pytest.raises(ValidationError):
        services.incident_merge_duplicate(incident=parent, actor=org.desk, parent=parent)
    other = log_incident()
    with pytest.raises(ValidationError):
        services.incident_merge_duplicate(incident=other, actor=org.desk, parent=child)


def test_auto_close_closes_old_resolutions_once(log_incident, org, settings):
    from incidents.tasks import incidents_auto_close

    settings.INCIDENT_AUTO_CLOSE_DAYS = 5
    old = log_incident()
    old = services.incident_transition(
        incident=old, actor=org.desk, status="resolved", resolution_code="fixed", note="Fixed.",
        at=timezone.now() - timedelta(days=6),
    )  # fmt: skip
    recent = services.incident_transition(
        incident=log_incident(), actor=org.desk, status="resolved", resolution_code="fixed", note="Fixed."
    )
    assert incidents_auto_close() == 1
    assert incidents_auto_close() == 0
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == Status.CLOSED and old.closed_at and recent.status == Status.RESOLVED
    assert old.events.filter(field="status", new="closed", actor=None).count() == 1


def test_link_cause_records_card_and_release(log_incident, org):
    from tests.boards.factories import CardFactory  # provided by the boards engineer

    card = CardFactory()
    incident = services.incident_link_cause(incident=log_incident(), actor=org.desk, card=card)
    assert incident.caused_by_card == card
    assert incident.events.filter(event="cause_linked", field="caused_by_card").exists()


def test_next_tier_team_for_sla_escalation(log_incident, org):
    incident = log_incident()
    assert services.next_tier_team(incident) == org.t2 or services.next_tier_team(incident).tier == 2
    incident = services.incident_escalate(incident=incident, actor=None, team=org.t2, note="SLA breach")
    assert services.next_tier_team(incident) == org.dev
