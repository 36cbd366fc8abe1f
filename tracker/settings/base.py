"""Settings shared by every environment.

Everything that differs between a laptop and production comes from the environment;
`local`, `production` and `test` only choose safe defaults for their situation.
"""

import logging
import os
from pathlib import Path

import dj_database_url
from celery.schedules import timedelta

from tracker.logs import configure_structlog, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("TANDEM_VAR_DIR", BASE_DIR / "var"))


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = env("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for the project's renderer (FORM_RENDERER)
    "django_prometheus",
    "django_structlog",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "tracker",
    "audit",
    "accounts",
    "org",
    "incidents",
    "sla",
    "boards",
    "sprints",
    "changes",
    "escalation",
    "dashboards",
    "webhooks",
    "notifications",
    "customers",
    "mail",
    "knowledge",
    "problems",
    "search",
    "portal",
    "desk",
]

MIDDLEWARE = [
    # First and last: django-prometheus times the whole stack (requests, latency, status).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication, so each line carries the user id with the request id.
    "django_structlog.middlewares.RequestMiddleware",
    # Customers' portal accounts reach only /portal/ and /api/v1/portal/ (portal.middleware).
    "portal.middleware.PortalFenceMiddleware",
    "tracker.middleware.BrowserLoginRequiredMiddleware",
    "tracker.middleware.ViewerTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

# Widgets render through the project's template engine, so templates/django/forms/ may
# replace one of Django's widget templates (select.html: options inline, not included).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tracker.context_processors.navigation",
                "portal.context_processors.portal",
                "notifications.context_processors.bell",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tandem.sqlite3'}"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: wait for locks instead of failing,
    # and take the write lock at the start of a transaction so select_for_update-style
    # sections serialise.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Covering indexes (INCLUDE) speed up the dashboards on PostgreSQL; SQLite keeps their
    # key columns, which is all it needs at laptop sizes.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Tandem's queries are short index-backed reads and aggregates; PostgreSQL's JIT spent
    # longer compiling the dashboard aggregates (150+ ms each, measured) than running them.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = env("DATABASE_SESSION_OPTIONS", "-c jit=off")

# Webhooks may only call public addresses (no SSRF into this host or its network) unless
# this is set, e.g. on a laptop trying a receiver on localhost.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)

# Memory a reporting query may use for its sorts and hashes (PostgreSQL, per query node).
REPORTING_WORK_MEM = env("REPORTING_WORK_MEM", "64MB")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# ModelBackend, loading a user with their portal contact in the same query (portal.backends).
AUTHENTICATION_BACKENDS = ["portal.backends.TandemBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Uploaded files (attachments) through Django's storage API: local files by default.
MEDIA_ROOT = Path(env("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"  # never served directly: downloads go through a permission check
ATTACHMENT_MAX_BYTES = int(env("ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# object: a backend's OPTIONS hold numbers too (production: the Redis socket timeouts).
CACHES: dict[str, dict[str, object]] = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "tandem",
    }
}

# ---------------------------------------------------------------- REST framework
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.authentication.FencedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON through orjson, exactly as DRF writes it (tracker.api.renderers); the browsable API.
    "DEFAULT_RENDERER_CLASSES": [
        "tracker.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "tracker.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "tracker.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "tracker.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["tracker.api.throttling.ApiUserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"login": env("LOGIN_THROTTLE_RATE", "20/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Requests per user (per address when anonymous) to the API; read per request by
# tracker.api.throttling, so tests and operators can change it.
API_THROTTLE_RATE = env("API_THROTTLE_RATE", "1000/min")

SPECTACULAR_SETTINGS = {
    "TITLE": "Tandem API",
    "DESCRIPTION": "Incidents, SLA timers, boards, sprints and change requests in one database.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The schema is checked by its own test (`spectacular --fail-on-warn`), not by
    # `check --deploy`, which is about deployment safety.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    # Choice sets that share a field name get their own component names.
    "ENUM_NAME_OVERRIDES": {
        "IncidentTypeEnum": "incidents.models.IncidentType",
        "IncidentStatusEnum": "incidents.models.Status",
        "PriorityEnum": "incidents.models.Priority",
        "LevelEnum": "incidents.models.Level",
        "CardTypeEnum": "boards.models.CardType",
        "ChangeSourceEnum": "changes.models.Source",
        "ChangeKindEnum": "changes.models.Kind",
        "ChangeStatusEnum": "changes.models.ChangeStatus",
        "ReasonKindEnum": "boards.models.ReasonKind",
        "LaneKindEnum": "boards.models.LaneKind",
        "SprintStateEnum": "sprints.models.SprintState",
        "DeliveryStatusEnum": "webhooks.models.DeliveryStatus",
        "ProblemStatusEnum": "problems.models.ProblemStatus",
    },
}

# ---------------------------------------------------------------- Celery
# Embedded default: kombu's filesystem transport needs no server. Production sets
# CELERY_BROKER_URL (or REDIS_URL) to Redis.
CELERY_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or env("REDIS_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
        # The exchange tables (kombu's default is ./control, i.e. inside the checkout).
        "control_folder": str(CELERY_BROKER_DIR / "control"),
    }
else:
    # Longer than any countdown we schedule, so late-acked tasks are not redelivered early.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Publishing must never hang a web request when the broker is away: fail fast and let the
# caller decide (see tracker.tasks.enqueue).
CELERY_TASK_PUBLISH_RETRY = False
# Beat must run once. Production's scheduler (tracker.beat.SingleBeatScheduler) sends only
# while it holds a lock in Redis renewed every tick; a second beat waits as a hot standby and
# takes over this long after the first one dies.
BEAT_LOCK_SECONDS = float(env("BEAT_LOCK_SECONDS", "30"))
SLA_SWEEP_SECONDS = float(env("SLA_SWEEP_SECONDS", "30"))
MAIL_POLL_SECONDS = float(env("MAIL_POLL_SECONDS", "60"))
# Pollers per mailbox at once (each takes the UIDs ≡ k mod n): raise it with the workers
# when one busy mailbox's mail arrives faster than one process handles it.
MAIL_POLL_WORKERS = int(env("MAIL_POLL_WORKERS", "1"))
# GET /metrics (Prometheus) asks for `Authorization: Bearer <METRICS_TOKEN>` when this is set;
# unset, it is open to whoever reaches it (production warns: see tracker.checks).
METRICS_TOKEN = env("METRICS_TOKEN", "")
# /healthz answers 503 when no SLA sweep finished for this long (default: 10 sweep periods,
# at least 2 minutes; see tracker.health).
HEALTHZ_SWEEP_STALE_SECONDS = float(env("HEALTHZ_SWEEP_STALE_SECONDS", "0")) or None
# Breach escalation / major declaration act only this soon after the breach (see sla.services).
SLA_BREACH_ACTION_FRESH_MINUTES = float(env("SLA_BREACH_ACTION_FRESH_MINUTES", "15"))
CELERY_BEAT_SCHEDULE: dict = {
    "tracker-heartbeat": {"task": "tracker.tasks.heartbeat", "schedule": timedelta(minutes=5)},
    "sla-sweep": {"task": "sla.tasks.sla_sweep", "schedule": timedelta(seconds=SLA_SWEEP_SECONDS)},
    "notifications-email-pending": {
        "task": "notifications.tasks.notifications_email_pending",
        "schedule": timedelta(minutes=2),
    },
    "webhooks-retry": {"task": "webhooks.tasks.webhooks_retry_due", "schedule": timedelta(seconds=60)},
    "idempotency-keys-expire": {
        "task": "tracker.tasks.idempotency_keys_expire",
        "schedule": timedelta(hours=1),
    },
    "mail-send-due": {"task": "mail.tasks.mail_send_due", "schedule": timedelta(seconds=60)},
    "mail-poll": {"task": "mail.tasks.mail_poll", "schedule": timedelta(seconds=MAIL_POLL_SECONDS)},
    "incidents-auto-close": {
        "task": "incidents.tasks.incidents_auto_close",
        "schedule": timedelta(minutes=15),
    },
}

# ---------------------------------------------------------------- Tandem
IDEMPOTENCY_KEEP_HOURS = int(env("IDEMPOTENCY_KEEP_HOURS", "24"))
INCIDENT_AUTO_CLOSE_DAYS = int(env("INCIDENT_AUTO_CLOSE_DAYS", "5"))
# The fix forecast (SPEC §15, boards.forecast): weeks of done cards it learns the board's
# throughput from, Monte Carlo trials, and the least history it forecasts from (done cards
# of the lane class, days measured) instead of guessing.
FORECAST_HISTORY_WEEKS = int(env("FORECAST_HISTORY_WEEKS", "8"))
FORECAST_TRIALS = int(env("FORECAST_TRIALS", "1000"))
FORECAST_MIN_DONE = int(env("FORECAST_MIN_DONE", "5"))
FORECAST_MIN_DAYS = int(env("FORECAST_MIN_DAYS", "14"))
# Outbound mail (staff notifications and the customer channel) through Django's SMTP backend
# when EMAIL_HOST is set; local.py writes files under var/mail/ instead.
EMAIL_HOST = env("EMAIL_HOST", "")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", "30"))
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "tandem@localhost")
# The customer channel (mail app): acknowledge new incidents that have no mailbox of their
# own, how often a failed send is tried, how often beat polls the mailboxes.
MAIL_ACKNOWLEDGE = env_bool("MAIL_ACKNOWLEDGE", True)
MAIL_SEND_MAX_ATTEMPTS = int(env("MAIL_SEND_MAX_ATTEMPTS", "6"))
MAIL_INBOUND_MAX_BYTES = int(env("MAIL_INBOUND_MAX_BYTES", str(50 * 1024 * 1024)))
# Where Tandem lives, for absolute links in e-mails (e.g. https://tandem.example.com).
TANDEM_BASE_URL = env("TANDEM_BASE_URL", "")
# The customer portal (SPEC §15): how long an invitation link and a rating link work (seconds),
# and a password-reset link (Django's PASSWORD_RESET_TIMEOUT, one day).
PORTAL_INVITE_MAX_AGE = int(env("PORTAL_INVITE_MAX_AGE", str(7 * 24 * 3600)))
PORTAL_RATING_MAX_AGE = int(env("PORTAL_RATING_MAX_AGE", str(30 * 24 * 3600)))
PASSWORD_RESET_TIMEOUT = int(env("PASSWORD_RESET_TIMEOUT", str(24 * 3600)))

# Logs: structlog over the standard library's logging (tracker/logs.py). LOG_FORMAT=json
# writes one JSON object per line (production's default); "plain" readable lines.
LOG_FORMAT = env("LOG_FORMAT", "plain")
LOGGING = logging_config(json=LOG_FORMAT == "json", level=env("LOG_LEVEL", "INFO"))
configure_structlog()
# django-structlog: a request id per request (the caller's X-Request-ID when sent: set it at
# the proxy), bound into every line and carried into the Celery tasks the request queues.
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG  # request_finished says it all
