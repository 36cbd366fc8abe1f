"""Notifications: once per event, only after commit, never on rollback; preferences; pages."""

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from incidents.services import incident_assign, incident_comment, incident_create, incident_escalate
from notifications.models import EmailPreference, EmailState, Kind, Notification
from notifications.services import notification_create, notifications_send_email
from notifications.tasks import notifications_email
from tests.factories import ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(make_user):
    desk = make_user("service_desk", username="desk1")
    agent = make_user("support_engineer", username="agent1")
    tier2 = make_user("support_engineer", username="agent2")
    team = TeamFactory(members=[desk, agent])
    team2 = TeamFactory(tier=2, members=[tier2])
    service = ServiceFactory(support_team=team)
    incident = incident_create(
        actor=desk, title="Checkout down", description="500s", service=service, impact="high", urgency="high"
    )
    return {"desk": desk, "agent": agent, "tier2": tier2, "team2": team2, "incident": incident}


def test_assignment_writes_in_app_row_and_mails_once_after_commit(setup, django_capture_on_commit_callbacks):
    incident, desk, agent = setup["incident"], setup["desk"], setup["agent"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks() as callbacks:
        incident_assign(incident=incident, actor=desk, assignee=agent)
    row = Notification.objects.get(recipient=agent)
    assert row.kind == Kind.ASSIGNED and incident.key in row.title and row.read_at is None
    assert row.email_state == EmailState.PENDING
    assert len(mail.outbox) == 0  # nothing before commit
    assert len(callbacks) == 1
    # the on-commit callback queues the task; run the task's body as the worker would
    assert notifications_email.run([row.pk]) == 1
    assert notifications_email.run([row.pk]) == 0  # delivered twice: mailed once
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [agent.email]
    assert incident.key in mail.outbox[0].subject
    row.refresh_from_db()
    assert row.email_state == EmailState.SENT and row.emailed_at is not None


def test_callback_queues_the_celery_task(setup, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "notifications.services.enqueue", lambda task, *args: queued.append((task.name, args))
    )
    with django_capture_on_commit_callbacks(execute=True):
        incident_assign(incident=setup["incident"], actor=setup["desk"], assignee=setup["agent"])
    pk = Notification.objects.get(recipient=setup["agent"]).pk
    assert queued == [("notifications.tasks.notifications_email", ([pk],))]


def test_rollback_leaves_no_notification_and_no_callback(setup, django_capture_on_commit_callbacks):
    incident, desk, agent = setup["incident"], setup["desk"], setup["agent"]
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        incident_assign(incident=incident, actor=desk, assignee=agent)
        raise RuntimeError("later step failed")
    assert not Notification.objects.exists()
    assert callbacks == []
    assert mail.outbox == []


def test_savepoint_rollback_inside_a_committing_transaction(setup, django_capture_on_commit_callbacks):
    """A notification written in a rolled-back savepoint is gone; a later one in the same
    transaction still gets its e-mail."""
    incident, desk, agent = setup["incident"], setup["desk"], setup["agent"]
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        try:
            with transaction.atomic():
                notification_create(kind=Kind.REPLY, recipients=[agent], title="doomed", incident=incident)
                raise RuntimeError
        except RuntimeError:
            pass
        notification_create(kind=Kind.REPLY, recipients=[desk], title="kept", incident=incident)
    assert list(Notification.objects.values_list("title", flat=True)) == ["kept"]
    mail.outbox.clear()
    pks = list(Notification.objects.values_list("pk", flat=True))
    assert len(callbacks) == 1
    assert notifications_send_email(pks) == 1 and mail.outbox[0].to == [desk.email]


def test_public_reply_notifies_reporter_and_assignee_but_not_the_author(setup):
    incident, agent = setup["incident"], setup["agent"]
    incident_assign(incident=incident, actor=agent, assignee=agent)  # self-assignment: no notification
    assert not Notification.objects.exists()
    incident_comment(incident=incident, actor=agent, body="We are on it", public=True)
    assert list(Notification.objects.values_list("recipient__username", "kind")) == [("desk1", "reply")]
    incident_comment(incident=incident, actor=agent, body="internal", public=False)
    assert Notification.objects.count() == 1


def test_escalation_notifies_the_new_team(setup):
    incident_escalate(
        incident=setup["incident"], actor=setup["desk"], team=setup["team2"], note="Needs tier 2"
    )
    row = Notification.objects.get()
    assert row.recipient == setup["tier2"] and row.kind == Kind.ESCALATED
    assert "Needs tier 2" in row.body


def test_email_preference_off_keeps_in_app_only(setup, client):
    agent = setup["agent"]
    client.force_login(agent)
    kinds = [k for k in Kind.values if k != Kind.ASSIGNED]
    response = client.post(reverse("notifications:preferences"), {"kinds": kinds})
    assert response.status_code == 302
    assert EmailPreference.objects.get(user=agent, kind=Kind.ASSIGNED).email is False
    incident_assign(incident=setup["incident"], actor=setup["desk"], assignee=agent)
    row = Notification.objects.get(recipient=agent)
    assert row.email_state == EmailState.OFF
    assert notifications_send_email([row.pk]) == 0
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert 'value="assigned"' in page and 'value="reply" checked' in page.replace('id="id_kinds_1" ', "")


def test_bad_preference_is_refused_with_a_field_message(setup, client):
    client.force_login(setup["agent"])
    response = client.post(reverse("notifications:preferences"), {"kinds": ["nonsense"]})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_bell_list_mark_read_and_all_read(setup, client):
    incident, desk, agent = setup["incident"], setup["desk"], setup["agent"]
    for n in range(3):
        notification_create(kind=Kind.REPLY, recipients=[agent], title=f"n{n}", incident=incident, url="/")
    client.force_login(agent)
    page = client.get(reverse("notifications:list")).content.decode()
    assert 'data-testid="bell-count">3<' in page
    first = Notification.objects.filter(recipient=agent).first()
    client.post(reverse("notifications:read", args=[first.pk]))
    assert Notification.objects.filter(recipient=agent, read_at__isnull=True).count() == 2
    # someone else's notification is not theirs to mark
    other = notification_create(kind=Kind.REPLY, recipients=[desk], title="x", incident=incident)[0]
    assert client.post(reverse("notifications:read", args=[other.pk])).status_code == 404
    opened = client.get(reverse("notifications:open", args=[first.pk]))
    assert opened.status_code == 302
    client.post(reverse("notifications:read_all"))
    assert Notification.objects.filter(recipient=agent, read_at__isnull=True).count() == 0
    unread = client.get(reverse("notifications:list"), {"show": "unread"}).content.decode()
    assert 'data-testid="bell-count"' not in unread and "Nothing yet" in unread


def test_list_query_count_does_not_grow(setup, client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    agent, incident = setup["agent"], setup["incident"]
    client.force_login(agent)
    notification_create(kind=Kind.REPLY, recipients=[agent], title="one", incident=incident)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("notifications:list"))
    for n in range(40):
        notification_create(kind=Kind.REPLY, recipients=[agent], title=f"n{n}", incident=incident)
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("notifications:list"))
    assert len(large) == len(small)
