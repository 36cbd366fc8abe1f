"""Events that background work raises reach a receiver through a real Celery worker on the
real Redis: the beat sweep's SLA warning and breach (the PostgreSQL set-based path), and
auto-close's incident.updated. A real http.server on 127.0.0.1 records each request;
exactly one signed delivery per event."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from sla.models import SLATimer
from tests.sla.factories import CalendarFactory, PolicyFactory, make_incident
from webhooks.models import Delivery, DeliveryStatus
from webhooks.services import subscription_create


def wait_for(receiver, count, timeout=40):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(receiver.requests) < count:
        time.sleep(0.2)
    return receiver.requests


def signed(request, secret):
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    return request["headers"]["X-Tandem-Signature"] == expected


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_beat_sweep_sends_one_signed_warning_and_one_breach(celery_worker_process, receiver, manager_user):
    sub = subscription_create(url=receiver.url, events=["sla.warning", "sla.breach"], actor=manager_user)
    policy = PolicyFactory(priority="P1", calendar=CalendarFactory(always_open=True, hours={}))
    incident = make_incident(priority="P1")
    now = timezone.now()
    timer = SLATimer.objects.create(
        incident=incident,
        metric="resolution",
        policy=policy,
        target_minutes=4,
        started_at=now - timedelta(minutes=4),
        warn_at=now - timedelta(minutes=1),
        due_at=now + timedelta(seconds=1),
    )
    requests = wait_for(receiver, 2)
    time.sleep(5)  # two more sweep periods: nothing is sent again
    assert len(receiver.requests) == 2, [r["headers"]["X-Tandem-Event"] for r in receiver.requests]
    bodies = sorted((json.loads(r["body"]) for r in requests), key=lambda b: b["event"])
    assert [b["event"] for b in bodies] == ["sla.breach", "sla.warning"]
    assert all(signed(r, sub.secret) for r in requests)
    for body in bodies:
        assert body["data"]["incident"] == incident.pk and body["data"]["timer"] == timer.pk
        assert body["data"]["metric"] == "resolution"
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_auto_close_sends_one_signed_incident_updated(
    celery_worker_process, receiver, manager_user, settings
):
    from incidents.models import Status
    from incidents.tasks import incidents_auto_close

    incident = make_incident(
        priority="P3",
        status=Status.RESOLVED,
        resolved_at=timezone.now() - timedelta(days=30),
        resolution_code="fixed",
    )
    sub = subscription_create(url=receiver.url, events=["incident.updated"], actor=manager_user)
    incidents_auto_close.delay()  # the beat's task, run by the real worker
    requests = wait_for(receiver, 1)
    time.sleep(2)
    assert len(receiver.requests) == 1
    (request,) = requests
    assert signed(request, sub.secret)
    assert request["headers"]["X-Tandem-Event"] == "incident.updated"
    data = json.loads(request["body"])["data"]
    assert (data["key"], data["status"], data["changed"]) == (incident.key, "closed", ["closed_at", "status"])
    incident.refresh_from_db()
    assert incident.status == Status.CLOSED
