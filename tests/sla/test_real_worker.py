"""A real Celery worker with beat on the real Redis fires a breach within one sweep."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import IncidentEvent
from sla.models import SLAEvent, SLATimer, TimerState

from .factories import CalendarFactory, PolicyFactory, make_incident

SWEEP_SECONDS = 2  # tests/conftest.py starts the worker with SLA_SWEEP_SECONDS=2


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_beat_sweep_breaches_a_due_timer_within_one_period(celery_worker_process):
    policy = PolicyFactory(priority="P1", calendar=CalendarFactory(always_open=True, hours={}))
    incident = make_incident(priority="P1")
    due = timezone.now() + timedelta(seconds=1)
    timer = SLATimer.objects.create(
        incident=incident,
        metric="resolution",
        policy=policy,
        target_minutes=1,
        started_at=due - timedelta(minutes=1),
        due_at=due,
    )
    deadline = time.monotonic() + 30
    event = None
    while time.monotonic() < deadline:
        event = SLAEvent.objects.filter(timer=timer, kind="breach", handled_at__isnull=False).first()
        if event:
            break
        time.sleep(0.2)
    assert event is not None, "no breach fired; see tests/artifacts/celery-worker.log"
    timer.refresh_from_db()
    assert timer.state == TimerState.BREACHED
    assert timer.breached_at == due == event.at
    # Detected within one sweep period (plus a little for the task's own run time).
    assert event.detected_at - due <= timedelta(seconds=SWEEP_SECONDS + 1.5)
    assert IncidentEvent.objects.filter(incident=incident, event="sla_breach").count() == 1


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_policy_edit_is_applied_to_running_clocks_by_the_worker(celery_worker_process):
    from sla.models import SLAPolicy
    from sla.services import policy_update, sla_on_incident_created

    policy = PolicyFactory(
        priority="P1", resolution_minutes=600, calendar=CalendarFactory(always_open=True, hours={})
    )
    incident = make_incident(priority="P1")
    sla_on_incident_created(incident=incident, at=incident.created_at)
    policy_update(policy=policy, resolution_minutes=120)  # committed: the task is queued
    deadline = time.monotonic() + 30
    timer = None
    while time.monotonic() < deadline:
        timer = SLATimer.objects.get(incident=incident, metric="resolution")
        if timer.target_minutes == 120:
            break
        time.sleep(0.2)
    assert timer.target_minutes == 120, "not retargeted; see tests/artifacts/celery-worker.log"
    assert timer.due_at == incident.created_at + timedelta(minutes=120)
    assert SLAPolicy.objects.get(pk=policy.pk).retarget_requested_at is None
