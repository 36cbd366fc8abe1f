"""Production: PostgreSQL, Redis, gunicorn behind a TLS-terminating proxy."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import CELERY_BROKER_URL, DATABASES, env, env_bool, env_list, logging_config

DEBUG = False

_INSECURE_KEYS = {"", "changeme", "change-me", "secret", "local-only-insecure-key-tandem-embedded-defaults"}
if SECRET_KEY in _INSECURE_KEYS or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:  # noqa: F405
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value in production "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not env_bool("ALLOW_SQLITE", False):
    raise ImproperlyConfigured("Set DATABASE_URL to PostgreSQL in production.")
if CELERY_BROKER_URL.startswith("filesystem://") and not env_bool("ALLOW_FILESYSTEM_BROKER", False):
    raise ImproperlyConfigured("Set CELERY_BROKER_URL or REDIS_URL to Redis in production.")

# A second `celery beat` by mistake (or as a standby) sends nothing while the first runs.
CELERY_BEAT_SCHEDULER = "tracker.beat.SingleBeatScheduler"

# One JSON object per line, for the log shipper (LOG_FORMAT=plain for readable lines).
LOG_FORMAT = env("LOG_FORMAT", "json")
LOGGING = logging_config(json=LOG_FORMAT == "json", level=env("LOG_LEVEL", "INFO"))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]  # probes and scrapers inside the network
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REDIS_URL = env("REDIS_URL") or CELERY_BROKER_URL
if REDIS_URL.startswith("redis"):
    # Short socket timeouts: a hung Redis costs a request at most a second (callers of the
    # cache fail open), never a stalled worker.
    _cache_timeout = float(env("REDIS_CACHE_TIMEOUT", "1.0"))
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": _cache_timeout, "socket_timeout": _cache_timeout},
        }
    }
