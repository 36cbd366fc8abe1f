"""Fired events are handed to the action tasks in chunks, so a mass breach is worked by
every worker process at once; a lost chunk is found again by the requeue in chunks too."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sla.models import SLAEvent, SLAEventKind, SLATimer
from sla.services import events, sweep

from .factories import make_incident

pytestmark = pytest.mark.django_db


def test_sixty_events_go_out_as_three_tasks_of_at_most_twenty_five(monkeypatch):
    queued = []
    monkeypatch.setattr(events, "enqueue_on_commit", lambda task, ids: queued.append(list(ids)))
    events.dispatch_events(list(range(1, 61)))
    assert [len(chunk) for chunk in queued] == [25, 25, 10]
    assert sum(queued, []) == list(range(1, 61))


def test_the_requeue_of_lost_events_is_chunked_too(monkeypatch):
    old = timezone.now() - timedelta(minutes=10)
    timers = [
        SLATimer.objects.create(incident=make_incident(), metric="response", started_at=old)
        for _ in range(30)
    ]
    SLAEvent.objects.bulk_create(
        SLAEvent(timer=timer, kind=SLAEventKind.WARNING, at=old, detected_at=old) for timer in timers
    )
    queued = []
    monkeypatch.setattr(sweep, "enqueue", lambda task, ids: queued.append(list(ids)))
    assert sweep.requeue_unhandled_events(now=timezone.now()) == 30
    assert [len(chunk) for chunk in queued] == [25, 5]
