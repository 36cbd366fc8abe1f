"""Reliability tests. The quick ones run with the suite; the slow ones (a real worker
killed mid-sweep, a PostgreSQL restarted under load, Redis down under a real gunicorn)
run in the battery: `scripts/reliability` (TANDEM_RELIABILITY_BATTERY=1)."""

import os

import pytest

from .helpers import RedisServer

BATTERY = os.environ.get("TANDEM_RELIABILITY_BATTERY") == "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "battery: slow fault-injection test, run by scripts/reliability")


def pytest_collection_modifyitems(config, items):
    if BATTERY:
        return
    skip = pytest.mark.skip(
        reason="slow fault injection: run scripts/reliability (TANDEM_RELIABILITY_BATTERY=1)"
    )
    for item in items:
        if "battery" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def spare_redis():
    """A redis-server of our own on a spare port (6390–6399), stopped at the end."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def broker_at(settings):
    """`broker_at(url)` points Tandem's Celery app (and settings) at another broker for the
    test; the app's cached connection pools are dropped so the change takes effect."""
    from tracker.celery import app

    original = app.conf.broker_url

    def reset_pools():
        # app._pool is kombu's global pool for the URL: closing it alone left a closed pool in
        # kombu's registry, which every later publish in this process then failed to acquire
        # ("Acquire on closed pool"). kombu.pools.reset() closes and forgets them all.
        from kombu import pools

        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    def point(url):
        settings.CELERY_BROKER_URL = url
        app.conf.broker_url = url
        app.conf.broker_connection_timeout = 1
        reset_pools()

    yield point
    app.conf.broker_url = original
    reset_pools()
