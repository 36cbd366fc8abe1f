"""The per-user API limit (tracker.api.throttling): a sliding window of two fixed windows,
counted atomically, on the development cache and on Redis as production runs it."""

import threading
import uuid
from types import SimpleNamespace

import pytest
import redis
from django.core.cache import caches

from tracker.api import throttling
from tracker.api.throttling import ApiUserRateThrottle

WINDOW_START = 60 * 29_000_000.0  # a minute boundary


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request, settings):
    """Each test runs on the local-memory cache and on Redis (keys of its own prefix)."""
    if request.param == "locmem":
        yield "locmem"
        return
    prefix = f"throttle-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.CELERY_BROKER_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield "redis"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    caches["default"].close()


def _request(user_id=7):
    user = SimpleNamespace(is_authenticated=True, pk=user_id)
    return SimpleNamespace(user=user, META={"REMOTE_ADDR": "127.0.0.1"})


def _throttle(settings, rate, now):
    settings.API_THROTTLE_RATE = rate
    throttle = ApiUserRateThrottle()
    throttle.timer = lambda: now
    return throttle


def _hits(settings, rate, now, count, user_id=7):
    return [_throttle(settings, rate, now).allow_request(_request(user_id), None) for _ in range(count)]


def test_a_window_allows_the_rate_and_refuses_the_next(cache_backend, settings):
    assert _hits(settings, "4/min", WINDOW_START + 1, 5) == [True, True, True, True, False]
    assert _hits(settings, "4/min", WINDOW_START + 1, 1, user_id=8) == [True]  # a budget per user


def test_the_previous_window_counts_for_the_share_still_inside_the_sliding_window(cache_backend, settings):
    assert all(_hits(settings, "4/min", WINDOW_START + 50, 4))
    # Half-way through the next minute the 4 earlier requests weigh 2: two more fit.
    assert _hits(settings, "4/min", WINDOW_START + 90, 3) == [True, True, False]
    # A minute later the earlier window has slid out entirely.
    assert _hits(settings, "4/min", WINDOW_START + 170, 2) == [True, True]


def test_retry_after_names_the_moment_a_request_fits_again(cache_backend, settings):
    assert all(_hits(settings, "4/min", WINDOW_START + 50, 4))
    assert all(_hits(settings, "4/min", WINDOW_START + 90, 2))
    refused = _throttle(settings, "4/min", WINDOW_START + 90)
    assert not refused.allow_request(_request(), None)
    # 4 * (1 - t/60) + 2 + 1 <= 4 from t = 45 s into the window: 15 s from now.
    assert refused.wait() == 15
    assert _hits(settings, "4/min", WINDOW_START + 90 + 14, 1) == [False]
    assert _hits(settings, "4/min", WINDOW_START + 90 + 15, 1) == [True]


def test_when_this_window_is_full_the_wait_runs_into_the_next(cache_backend, settings):
    assert all(_hits(settings, "4/min", WINDOW_START + 10, 4))
    refused = _throttle(settings, "4/min", WINDOW_START + 10)
    assert not refused.allow_request(_request(), None)
    # Next window: 4 * (1 - t/60) + 1 <= 4 from t = 15 s: 50 s left here plus 15.
    assert refused.wait() == 65
    assert _hits(settings, "4/min", WINDOW_START + 60 + 14, 1) == [False]
    assert _hits(settings, "4/min", WINDOW_START + 60 + 15, 1) == [True]


def test_refused_requests_are_not_counted(cache_backend, settings):
    assert all(_hits(settings, "2/min", WINDOW_START + 1, 2))
    assert not any(_hits(settings, "2/min", WINDOW_START + 2, 20))
    # Had the 20 refusals counted, the next minute's first half would still be refused.
    assert _hits(settings, "2/min", WINDOW_START + 60 + 31, 2) == [True, False]


def test_concurrent_requests_never_exceed_the_limit(cache_backend, settings):
    """DRF's timestamp list loses requests to concurrent ones (read, extend, write back);
    counting by increment lets exactly the rate through however the requests interleave."""
    settings.API_THROTTLE_RATE = "25/min"
    results, start = [], threading.Barrier(10)

    def client():
        start.wait()
        for _ in range(10):
            throttle = ApiUserRateThrottle()
            throttle.timer = lambda: WINDOW_START + 5
            results.append(throttle.allow_request(_request(), None))

    threads = [threading.Thread(target=client) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 100
    assert results.count(True) == 25


def test_redis_answers_a_hit_in_one_round_trip(settings, monkeypatch):
    """Production's counter: the increment, its expiry and the previous window's read go to
    Redis as one pipeline (one round trip per request), and the key expires."""
    prefix = f"throttle-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.CELERY_BROKER_URL,
            "KEY_PREFIX": prefix,
        }
    }
    sent = []
    original = redis.client.Pipeline.execute

    def counting(self, *args, **kwargs):
        sent.append(len(self.command_stack))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counting)
    executed = []
    monkeypatch.setattr(redis.Redis, "execute_command", lambda self, *a, **k: executed.append(a[0]) or None)
    try:
        assert _hits(settings, "100/min", WINDOW_START + 1, 1) == [True]
        assert sent == [3] and executed == []  # nothing outside the one pipeline
        monkeypatch.undo()
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        keys = list(client.scan_iter(f"{prefix}:*"))
        assert len(keys) == 1 and 0 < client.ttl(keys[0]) <= 120
    finally:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        caches["default"].close()


def test_the_counter_survives_its_key_expiring_between_add_and_increment(settings, monkeypatch):
    """On the local cache the window key may expire between add() and incr()."""
    settings.API_THROTTLE_RATE = "3/min"
    monkeypatch.setattr(caches["default"], "add", lambda *a, **k: False)
    assert throttling.count_hit("gone", 5, 60) == (1, 0)
