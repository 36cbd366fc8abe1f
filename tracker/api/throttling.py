"""Per-user rate limit of the API (per client address for anonymous callers).

The rate comes from `settings.API_THROTTLE_RATE` (env API_THROTTLE_RATE, default 1000/min),
read on each request rather than at import as DRF's own throttles do, so it can be changed
per deployment and per test. Counters live in the default cache.
"""

import logging

from django.conf import settings
from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)


class ApiUserRateThrottle(UserRateThrottle):
    scope = "user"

    def __init__(self):
        # DRF reads the rate in __init__; ours comes from settings at request time.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_rate(self):
        return getattr(settings, "API_THROTTLE_RATE", "1000/min")

    def allow_request(self, request, view):
        # The cache is Redis in production: when it is away the API keeps serving (without
        # rate limiting for the moment) instead of failing every request with a 500.
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - any cache backend's connection error
            logger.warning("API throttle cache unavailable, not counting: %s", exc)
            return True
