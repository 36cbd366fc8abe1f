"""Embedded defaults: one machine, SQLite, the filesystem broker, demo data."""

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = env_bool("DEBUG", True)
# A fixed key is fine on a laptop: local settings are never used in production.
SECRET_KEY = env("SECRET_KEY", "local-only-insecure-key-tandem-embedded-defaults")  # noqa: S105
TANDEM_BASE_URL = env("TANDEM_BASE_URL", f"http://localhost:{env('PORT', '8000')}")
# No mail server on a laptop: mail is written to files under var/mail/ (one .log file per
# connection) unless EMAIL_HOST or EMAIL_BACKEND says otherwise.
if not env("EMAIL_HOST") and not env("EMAIL_BACKEND"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")  # noqa: F405
# On a laptop a webhook receiver usually runs on localhost.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", True)

# Static files come from the finders here (runserver, the live test server); WhiteNoise
# serves the collected files in production only.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405
