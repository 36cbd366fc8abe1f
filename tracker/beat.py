"""One beat at a time: a Celery beat scheduler that sends periodic tasks only while it holds
a lock in Redis (the broker), so a second beat started by mistake, or on purpose as a hot
standby, sends nothing until the first one stops or dies.

The holder renews the lock on every tick (ticks come at least every BEAT_LOCK_SECONDS / 3);
a beat that stops cleanly releases it, a beat that is killed leaves it to expire after
BEAT_LOCK_SECONDS, and a standby takes over on its next try. The periodic tasks are also
safe to run twice (row locks, guarded updates), so the short overlap a lost lock can cause
(Redis restarted with the lock gone while the first beat ticks on) doubles nothing either.

Without Redis (kombu's filesystem broker, the embedded default) there is nothing to share a
lock through and the scheduler behaves like Celery's own PersistentScheduler."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from typing import Any

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

LOCK_KEY = "tandem:beat:lock"


class SingleBeatScheduler(PersistentScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lock_seconds = float(getattr(settings, "BEAT_LOCK_SECONDS", 30))
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.holding = False
        url = settings.CELERY_BROKER_URL
        self.redis = (
            redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            if url.startswith(("redis://", "rediss://", "unix://"))
            else None
        )
        super().__init__(*args, **kwargs)

    def _hold_lock(self) -> bool:
        """Take the lock if free, or renew it if ours; False while another beat holds it."""
        if self.redis is None:
            return True
        ttl_ms = int(self.lock_seconds * 1000)
        try:
            if self.redis.set(LOCK_KEY, self.identity, nx=True, px=ttl_ms):
                held = True
            else:
                # Renew only if the lock is still ours (compare and extend, atomically).
                held = bool(self.redis.eval(_RENEW, 1, LOCK_KEY, self.identity, str(ttl_ms)))
        except redis.RedisError as exc:
            # Without the broker nothing could be sent anyway; try again next tick.
            logger.warning("beat lock: Redis unavailable (%s); not sending this tick", exc)
            held = False
        if held != self.holding:
            logger.warning(
                "beat %s: %s", self.identity, "holds the lock, sending" if held else "standby (another beat)"
            )
            self.holding = held
        return held

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self._hold_lock():
            return self.lock_seconds / 3
        return min(super().tick(*args, **kwargs), self.lock_seconds / 3)

    def close(self) -> None:
        if self.redis is not None and self.holding:
            with contextlib.suppress(redis.RedisError):  # else it expires on its own
                self.redis.eval(_RELEASE, 1, LOCK_KEY, self.identity)
            self.holding = False
        super().close()


_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
