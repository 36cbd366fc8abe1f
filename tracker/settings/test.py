"""Settings for the test suite: a real PostgreSQL and a real Redis, started by scripts/test."""

import os
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, env


def _redis_db_of_this_xdist_worker(url: str) -> str:
    """Under pytest-xdist each worker (gw0, gw1, …) gets its own Redis db: the configured one
    plus N. Celery reads CELERY_BROKER_URL from the environment before its settings, and the
    real workers and commands the tests start inherit the environment, so it is rewritten
    there too (once: a child process sees the marker and keeps the URL it was given). The
    test database needs no such care: pytest-django gives each worker test_<name>_gwN."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url.startswith("redis") or not worker.startswith("gw"):
        return url
    if os.environ.get("TANDEM_XDIST_REDIS") == worker:
        return url
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0) + int(worker[2:])
    if db > 15:  # redis-server's default `databases 16`
        raise ImproperlyConfigured(
            f"xdist worker {worker} would use Redis db {db}: lower TANDEM_REDIS_DB or the worker count"
        )
    per_worker = urlunsplit(parts._replace(path=f"/{db}"))
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        if os.environ.get(name) in (None, url):
            os.environ[name] = per_worker
    os.environ["TANDEM_REDIS_DB"] = str(db)
    os.environ["TANDEM_XDIST_REDIS"] = worker
    return per_worker


SECRET_KEY = "test-only-key"  # noqa: S105
DEBUG = False
DATABASES["default"].update(
    {
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
    }
)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The mail tests point a real worker at an SMTP sink through the environment.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
MAIL_POLL_SECONDS = float(env("MAIL_POLL_SECONDS", "60"))
CELERY_BROKER_URL = _redis_db_of_this_xdist_worker(
    env("CELERY_BROKER_URL") or env("REDIS_URL") or "redis://127.0.0.1:6379/12"
)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "1000/min"}}  # noqa: F405
CELERY_RESULT_BACKEND = CELERY_BROKER_URL

# Static files come from the finders here (runserver, the live test server); WhiteNoise
# serves the collected files in production only.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405
# The webhook tests run their receiver on 127.0.0.1 (tests of the guard switch this off).
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
