"""Login rate limiting shared by the login page and the token endpoint.

Counts failed attempts per username and per client address in the cache; after
`LIMIT` failures within `WINDOW` seconds further attempts are refused until it passes.
"""

import hashlib
import logging

from django.core.cache import cache

LIMIT = 10
WINDOW = 300
logger = logging.getLogger(__name__)


def _cache_down(exc) -> None:
    # The cache is Redis in production: when it is away, sign-in must still work (without
    # rate limiting for the moment) rather than fail with a 500.
    logger.warning("login throttle cache unavailable, not counting: %s", exc)


def _keys(request, username):
    # Hashed: a typed username may hold any characters, which not every cache accepts in a key.
    user = hashlib.sha256((username or "").lower().encode()).hexdigest()[:32]
    address = request.META.get("REMOTE_ADDR", "unknown")
    return [f"login-fail:user:{user}", f"login-fail:addr:{address}"]


def login_blocked(request, username) -> bool:
    try:
        return any((cache.get(key) or 0) >= LIMIT for key in _keys(request, username))
    except Exception as exc:  # noqa: BLE001 - any cache backend's connection error
        _cache_down(exc)
        return False


def record_login_failure(request, username):
    try:
        for key in _keys(request, username):
            cache.add(key, 0, WINDOW)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, WINDOW)
    except Exception as exc:  # noqa: BLE001 - any cache backend's connection error
        _cache_down(exc)


def clear_login_failures(request, username):
    try:
        cache.delete_many(_keys(request, username))
    except Exception as exc:  # noqa: BLE001 - any cache backend's connection error
        _cache_down(exc)
