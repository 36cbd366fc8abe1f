"""A real Celery worker on the real Redis broker runs our tasks (no eager mode)."""

import pytest

from tracker.tasks import enqueue, ping


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_a_task_over_redis(celery_worker_process, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    from celery.result import EagerResult

    from tracker.celery import app

    # no eager mode, by setting or in the app itself: the task must travel to the worker
    assert getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) is False
    assert app.conf.task_always_eager is False
    result = ping.delay(41)
    assert result.get(timeout=30) == {"pong": 41}
    assert not isinstance(result, EagerResult) and result.state == "SUCCESS"


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
