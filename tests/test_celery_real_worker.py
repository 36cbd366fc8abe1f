"""A real Celery worker on the real Redis broker runs our tasks (no eager mode)."""

import pytest

from tracker.tasks import enqueue, ping


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_a_task_over_redis(celery_worker_process, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert not settings.CELERY_TASK_ALWAYS_EAGER if hasattr(settings, "CELERY_TASK_ALWAYS_EAGER") else True
    result = ping.delay(41)
    assert result.get(timeout=30) == {"pong": 41}


def test_enqueue_does_not_fail_the_caller_when_the_broker_is_down(monkeypatch):
    import time

    from celery import Celery

    # Celery prefers this variable to the app's own setting; scripts/test exports it.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)

    unreachable = Celery("unreachable", broker="redis://127.0.0.1:1/0")
    unreachable.conf.broker_connection_timeout = 1

    @unreachable.task(name="tests.noop")
    def noop():
        return None

    started = time.monotonic()
    assert enqueue(noop) is None
    assert time.monotonic() - started < 10
