"""Settings for the test suite: a real PostgreSQL and a real Redis, started by scripts/test."""

from .base import *  # noqa: F403
from .base import DATABASES, env

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
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or env("REDIS_URL") or "redis://127.0.0.1:6379/15"
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
