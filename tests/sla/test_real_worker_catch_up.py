"""After downtime, a real worker's beat sweep catches up a breach that is days old: it is
recorded at its true instant and notified, but the incident (back from development with
its support owner since) is not escalated anywhere, and the timeline says why."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, IncidentEvent
from notifications.models import Kind, Notification
from sla.models import SLAEvent

from .scenarios import back_from_development, scene


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_catch_up_after_downtime_does_not_escalate_a_stale_breach(celery_worker_process):
    with transaction.atomic():  # the worker's beat sees the whole history at once
        s = scene(major=True)
        incident = back_from_development(s, days_ago=4)
        escalations_before = IncidentEvent.objects.filter(incident=incident, event="escalated").count()
    deadline = time.monotonic() + 40
    event = None
    while time.monotonic() < deadline:
        event = SLAEvent.objects.filter(
            timer__incident=incident, timer__metric="resolution", kind="breach", handled_at__isnull=False
        ).first()
        if event:
            break
        time.sleep(0.3)
    assert event is not None, "the worker fired no breach; see tests/artifacts/celery-worker.log"
    assert event.at < timezone.now() - timedelta(days=3)  # the true due instant, days ago
    incident = Incident.objects.select_related("team", "assignee").get(pk=incident.pk)
    assert not incident.team.is_development
    assert (incident.team, incident.tier, incident.assignee) == (s.support_team, 2, s.engineer)
    assert not incident.is_major
    assert IncidentEvent.objects.filter(incident=incident, event="escalated").count() == escalations_before
    note = IncidentEvent.objects.get(incident=incident, event="sla_breach_action").note
    assert f"Resolution SLA breach at {event.at:%d %b %Y %H:%M} UTC detected late" in note
    assert "automatic escalation and major-incident declaration skipped because" in note
    assert "it came back from development since the breach" in note
    assert Notification.objects.filter(recipient=s.engineer, kind=Kind.SLA_BREACH, incident=incident).exists()
