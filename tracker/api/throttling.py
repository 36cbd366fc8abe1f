"""Per-user rate limit of the API (per client address for anonymous callers).

The rate comes from `settings.API_THROTTLE_RATE` (env API_THROTTLE_RATE, default 1000/min),
read on each request rather than at import as DRF's own throttles do, so it can be changed
per deployment and per test. Counters live in the default cache.

DRF's own throttle keeps every request's timestamp in one cached list that each request
reads, extends and writes back: two round trips carrying up to `rate` floats, and two
concurrent requests both read the old list, so one of them is not counted. This one counts
in a sliding window made of two fixed windows (the previous window's count weighted by how
much of it the sliding window still covers): one atomic increment and one read, sent to
Redis as a single round trip, and no request is lost to a concurrent one.
"""

import contextlib
import logging
import math

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)


def _redis_client(cache_backend):
    """The redis-py client of Django's Redis cache backend, or None for other backends."""
    from django.core.cache.backends.redis import RedisCache

    if not isinstance(cache_backend, RedisCache):
        return None
    return cache_backend._cache.get_client(write=True)  # noqa: SLF001 - the documented client class


def count_hit(key: str, window: int, duration: int) -> tuple[int, int]:
    """Counts one request in the fixed window `window` of `key`; answers this window's count
    (the request included) and the previous window's."""
    cache = caches["default"]
    current, previous = f"{key}:{window}", f"{key}:{window - 1}"
    client = _redis_client(cache)
    if client is not None:
        current_key = cache.make_and_validate_key(current)
        with client.pipeline(transaction=True) as pipe:
            pipe.incr(current_key)
            pipe.expire(current_key, 2 * duration)
            pipe.get(cache.make_and_validate_key(previous))
            counted, _, before = pipe.execute()
        return int(counted), int(before or 0)
    # Other caches (local memory in development): add-then-increment is atomic there too.
    cache.add(current, 0, timeout=2 * duration)
    try:
        counted = cache.incr(current)
    except ValueError:  # expired between the two calls
        cache.add(current, 1, timeout=2 * duration)
        counted = 1
    return counted, int(cache.get(previous) or 0)


def uncount_hit(key: str, window: int) -> None:
    """Takes back a refused request, so a client retrying while limited is not held longer."""
    with contextlib.suppress(ValueError):  # the window's key already expired
        caches["default"].decr(f"{key}:{window}")


class ApiUserRateThrottle(UserRateThrottle):
    scope = "user"

    def __init__(self):
        # DRF reads the rate in __init__; ours comes from settings at request time.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self._wait: float | None = None

    def get_rate(self):
        return getattr(settings, "API_THROTTLE_RATE", "1000/min")

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window, into = divmod(now, self.duration)
        # The cache is Redis in production: when it is away the API keeps serving (without
        # rate limiting for the moment) instead of failing every request with a 500.
        try:
            current, previous = count_hit(self.key, int(window), self.duration)
        except Exception as exc:  # noqa: BLE001 - any cache backend's connection error
            logger.warning("API throttle cache unavailable, not counting: %s", exc)
            return True
        covered = 1 - into / self.duration  # the share of the previous window still inside
        if previous * covered + current <= self.num_requests:
            return True
        self._wait = self._seconds_until_allowed(current - 1, previous, into)
        try:
            uncount_hit(self.key, int(window))
        except Exception as exc:  # noqa: BLE001
            logger.warning("API throttle cache unavailable, not uncounting: %s", exc)
        return False

    def _seconds_until_allowed(self, current: int, previous: int, into: float) -> float:
        """When one more request would fit: later in this window as the previous one's
        weight shrinks, or in the next window as this one's does."""
        limit, duration = self.num_requests, self.duration
        if current < limit:
            # previous * (1 - t / duration) + current + 1 <= limit
            fits_at = duration * (1 - (limit - current - 1) / previous) if previous else into
            if fits_at < duration:
                return max(fits_at - into, 0.0)
        # In the next window: current * (1 - t / duration) + 1 <= limit
        fits_at = duration * (1 - (limit - 1) / current) if current else 0.0
        return (duration - into) + max(fits_at, 0.0)

    def wait(self):
        return None if self._wait is None else max(math.ceil(self._wait), 1)
