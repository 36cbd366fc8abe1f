"""Each event source writes its notification through the one notification path."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from escalation.services import escalations_on_card_done, incident_escalate_to_development
from incidents.services import incident_assign, incident_escalate
from notifications.models import EmailState, Kind, Notification
from notifications.services import notifications_send_email
from sla.models import SLAEvent, SLATimer
from sla.services import sla_event_handle
from tests.escalation.conftest import (  # noqa: F401 - fixtures
    active_sprint,
    board,
    desk_team,
    dev_team,
    log_incident,
    service,
    support_team,
)
from tests.factories import ServiceFactory, TeamFactory
from tests.sla.factories import PolicyFactory, make_incident

pytestmark = pytest.mark.django_db


def test_card_done_tells_the_support_assignee_once_and_supersedes_the_generic_ones(
    log_incident,  # noqa: F811
    engineer_user,
    support_team,  # noqa: F811
    desk_user,
    board,  # noqa: F811
    active_sprint,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    incident = incident_escalate(incident=log_incident(), actor=desk_user, team=support_team, note="tier 2")
    incident = incident_assign(incident=incident, actor=engineer_user, assignee=engineer_user)
    result = incident_escalate_to_development(incident=incident, actor=engineer_user)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks() as callbacks:
        escalations_on_card_done(card=result.card, actor=None)
    rows = list(Notification.objects.filter(recipient=engineer_user))
    assert [r.kind for r in rows] == [Kind.FIX_RETURNED]  # not also "assigned"/"handed to your team"
    assert result.card.key in rows[0].title
    assert len(callbacks) == 1
    mail.outbox.clear()
    assert notifications_send_email([rows[0].pk]) == 1
    assert mail.outbox[0].to == [engineer_user.email]
    # the back-sync running again notifies nobody again
    escalations_on_card_done(card=result.card, actor=None)
    assert Notification.objects.filter(kind=Kind.FIX_RETURNED).count() == 1


def test_sla_breach_notifies_assignee_lead_and_managers_once(
    make_user, manager_user, django_capture_on_commit_callbacks
):
    lead = make_user("support_engineer", username="lead")
    agent = make_user("support_engineer", username="agentx")
    team = TeamFactory(lead=lead, members=[agent])
    incident = make_incident(service=ServiceFactory(support_team=team), assignee=agent)
    now = timezone.now()
    timer = SLATimer.objects.create(
        incident=incident,
        policy=PolicyFactory(),
        metric="resolution",
        started_at=now - timedelta(hours=5),
        due_at=now - timedelta(minutes=1),
        breached_at=now - timedelta(minutes=1),
        state="breached",
    )
    event = SLAEvent.objects.create(timer=timer, kind="breach", at=timer.due_at, detected_at=now)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_event_handle(event_id=event.pk) is True
        assert sla_event_handle(event_id=event.pk) is False
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {"lead", "agentx", "manager"}
    assert Notification.objects.get(recipient=agent).kind == Kind.SLA_BREACH
    assert sorted(m.to[0] for m in mail.outbox) == sorted([lead.email, agent.email, manager_user.email])
    assert set(Notification.objects.values_list("email_state", flat=True)) == {EmailState.SENT}


def test_sla_warning_goes_to_the_assignee_only(make_user, django_capture_on_commit_callbacks):
    lead = make_user("support_engineer", username="lead2")
    agent = make_user("support_engineer", username="agent2x")
    team = TeamFactory(lead=lead, members=[agent])
    incident = make_incident(service=ServiceFactory(support_team=team), assignee=agent)
    now = timezone.now()
    timer = SLATimer.objects.create(
        incident=incident,
        policy=PolicyFactory(),
        metric="response",
        started_at=now - timedelta(hours=1),
        due_at=now + timedelta(hours=1),
        warn_at=now - timedelta(minutes=1),
    )
    event = SLAEvent.objects.create(timer=timer, kind="warning", at=timer.warn_at, detected_at=now)
    with django_capture_on_commit_callbacks(execute=True):
        sla_event_handle(event_id=event.pk)
    assert list(Notification.objects.values_list("recipient__username", "kind")) == [
        ("agent2x", "sla_warning")
    ]


def test_change_decision_tells_the_requester(po_user, make_user):
    from changes.models import ChangeRequest
    from changes.services import change_request_triage

    requester = make_user("service_desk", username="req")
    dev = TeamFactory(is_development=True, tier=3)
    change = ChangeRequest.objects.create(
        key="CR-9001",
        title="Export button",
        requester=requester,
        team=dev,
        justification="customers ask",
        created_at=timezone.now(),
    )
    change_request_triage(change=change, decision="reject", actor=po_user, reason="Out of scope this year")
    row = Notification.objects.get()
    assert row.recipient == requester and row.kind == Kind.CHANGE_DECIDED
    assert "Out of scope this year" in row.body and "CR-9001" in row.title
