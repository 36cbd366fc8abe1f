"""Login rate limiting shared by the login page and the token endpoint.

Counts failed attempts per username and per client address in the cache; after
`LIMIT` failures within `WINDOW` seconds further attempts are refused until it passes.
"""

from django.core.cache import cache

LIMIT = 10
WINDOW = 300


def _keys(request, username):
    address = request.META.get("REMOTE_ADDR", "unknown")
    return [f"login-fail:user:{(username or '').lower()}", f"login-fail:addr:{address}"]


def login_blocked(request, username) -> bool:
    return any((cache.get(key) or 0) >= LIMIT for key in _keys(request, username))


def record_login_failure(request, username):
    for key in _keys(request, username):
        cache.add(key, 0, WINDOW)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, WINDOW)


def clear_login_failures(request, username):
    cache.delete_many(_keys(request, username))
