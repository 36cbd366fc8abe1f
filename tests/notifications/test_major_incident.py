"""The major-incident message goes through the notifications service: an in-app row for
every manager, the e-mail only to those who want this kind, with an absolute link."""

import time

import pytest
from django.db import transaction

from incidents.models import Incident
from incidents.tasks import incidents_notify_major
from notifications.models import EmailPreference, EmailState, Kind, Notification
from tests.sla.factories import make_incident


@pytest.fixture
def managers(make_user):
    keen = make_user("manager", username="keen", email="keen@example.com")
    quiet = make_user("manager", username="quiet", email="quiet@example.com")
    EmailPreference.objects.create(user=quiet, kind=Kind.MAJOR_INCIDENT, email=False)
    return keen, quiet


@pytest.mark.django_db
def test_major_incident_mail_respects_the_preference_and_links_absolutely(
    managers, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.TANDEM_BASE_URL = "https://tandem.example.com/"
    keen, quiet = managers
    incident = make_incident(priority="P1", is_major=True, title="Checkout down")
    with django_capture_on_commit_callbacks(execute=True):
        assert incidents_notify_major(incident.pk) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert incidents_notify_major(incident.pk) == 0  # a second delivery of the task
    rows = {n.recipient: n for n in Notification.objects.filter(kind=Kind.MAJOR_INCIDENT, incident=incident)}
    assert set(rows) == {keen, quiet}
    assert rows[keen].email_state == EmailState.SENT and rows[quiet].email_state == EmailState.OFF
    (message,) = mailoutbox
    assert message.to == ["keen@example.com"]
    assert message.subject == f"[Tandem] Major incident {incident.key}: Checkout down"
    assert f"https://tandem.example.com/incidents/{incident.key}/" in message.body


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_declaring_major_notifies_managers_through_a_real_worker(celery_worker_process, managers, make_user):
    from incidents.services import incident_declare_major

    keen, quiet = managers
    with transaction.atomic():
        incident = make_incident(priority="P1", title="Checkout down")
    incident_declare_major(incident=incident, actor=make_user("manager", username="boss"), note="All shops")
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline
        and not Incident.objects.filter(pk=incident.pk, managers_notified_at__isnull=False).exists()
    ):
        time.sleep(0.2)
    time.sleep(1)
    rows = {n.recipient: n for n in Notification.objects.filter(kind=Kind.MAJOR_INCIDENT, incident=incident)}
    assert set(rows) >= {keen, quiet}, "no notification; see tests/artifacts/celery-worker.log"
    assert rows[keen].email_state == EmailState.SENT and rows[keen].emailed_at is not None
    assert rows[quiet].email_state == EmailState.OFF
    assert (
        Notification.objects.filter(kind=Kind.MAJOR_INCIDENT, incident=incident, recipient=keen).count() == 1
    )
