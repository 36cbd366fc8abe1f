"""One beat at a time (SPEC §17): two beats started against the same Redis send each periodic
task once — the second is a hot standby that takes over when the first stops or dies."""

import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings

from tracker.beat import LOCK_KEY, SingleBeatScheduler
from tracker.celery import app


@pytest.fixture
def beats(tmp_path, settings):
    """`beats(name, lock_seconds)` builds a SingleBeatScheduler on the test Redis whose sends
    are recorded (name -> task names) instead of published; all are closed at the end."""
    import redis

    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.delete(LOCK_KEY)
    made, sent = [], {}

    def make(name, lock_seconds=30):
        settings.BEAT_LOCK_SECONDS = lock_seconds
        beat = SingleBeatScheduler(app=app, schedule_filename=str(tmp_path / f"beat-{name}"), lazy=False)
        sent[name] = []
        beat.apply_async = lambda entry, producer=None, advance=True, **kw: sent[name].append(entry.task)
        made.append(beat)
        return beat

    yield make, sent
    for beat in made:
        beat.close()
    client.delete(LOCK_KEY)


def _everything_due(beat):
    past = app.now() - timedelta(days=1)
    for entry in beat.schedule.values():
        entry.last_run_at = past
    beat._heap = None


def _run_ticks(beat, n=30):
    for _ in range(n):
        beat.tick()


def test_a_second_beat_sends_nothing_while_the_first_runs(beats):
    make, sent = beats
    first, second = make("first"), make("second")
    periodic = sorted(e["task"] for e in django_settings.CELERY_BEAT_SCHEDULE.values())
    for beat in (first, second):
        _everything_due(beat)
    for _ in range(3):  # interleaved, as two processes would tick
        _run_ticks(first, 10)
        _run_ticks(second, 10)
    assert sorted(sent["first"]) == periodic  # every periodic task once
    assert sent["second"] == []
    # the standby comes back within a third of the lock's lifetime to try again
    assert second.tick() == pytest.approx(10)


def test_the_standby_takes_over_when_the_first_stops(beats):
    make, sent = beats
    first, second = make("first"), make("second")
    _run_ticks(first, 1)
    first.close()  # a clean stop releases the lock
    _everything_due(second)
    _run_ticks(second, 20)
    assert len(sent["second"]) == len(django_settings.CELERY_BEAT_SCHEDULE)


def test_the_standby_takes_over_when_the_first_is_killed(beats):
    make, sent = beats
    first = make("first", lock_seconds=1)
    second = make("second", lock_seconds=1)
    _run_ticks(first, 1)
    first.holding = False  # a killed beat never releases: its lock must expire on its own
    _everything_due(second)
    _run_ticks(second, 5)
    assert sent["second"] == []
    time.sleep(1.2)
    _run_ticks(second, 20)
    assert len(sent["second"]) == len(django_settings.CELERY_BEAT_SCHEDULE)
    # and the first, were it only paused, now stands by instead of sending twice
    _everything_due(first)
    _run_ticks(first, 10)
    assert sent["first"] == []


def test_without_redis_the_scheduler_is_celerys_own(beats, settings):
    make, sent = beats
    settings.CELERY_BROKER_URL = "filesystem://"
    lone = make("lone")
    assert lone.redis is None
    _everything_due(lone)
    _run_ticks(lone, 20)
    assert len(sent["lone"]) == len(django_settings.CELERY_BEAT_SCHEDULE)
