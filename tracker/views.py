import sys

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect
from django.template import loader
from django.views import defaults
from django.views.decorators.cache import cache_control, never_cache
from kombu import Connection

from .navigation import nav_for


def _database_state():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "down"
    return "ok"


def _broker_state():
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=2,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # noqa: BLE001 - any failure to reach the broker means "down"
        return "down"
    return "ok"


@login_not_required
@never_cache
def healthz(request):
    database = _database_state()
    body = {"database": database, "broker": _broker_state()}
    return JsonResponse(body, status=200 if database == "ok" else 503)


@login_not_required
@cache_control(public=True, max_age=86400)
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: the same icon, no login."""
    icon = (settings.BASE_DIR / "static" / "favicon.ico").read_bytes()
    return HttpResponse(icon, content_type="image/vnd.microsoft.icon")


def home(request):
    items = nav_for(request.user)
    return redirect(items[0]["url"] if items else "accounts:profile")


def _database_unreachable(exc) -> bool:
    """A lost or refused connection, or the server shutting down: not a deadlock, a lock or
    statement timeout or a constraint (those are ordinary failures of one request)."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None) or getattr(exc.__cause__, "pgcode", None)
    return sqlstate is None or sqlstate.startswith(("08", "57P"))


def server_error(request):
    """The browser's error page. While the database is unreachable it is a retryable 503
    (as the API answers), rendered without touching the database; otherwise the plain 500."""
    exc = sys.exc_info()[1]
    if _database_unreachable(exc):
        response = HttpResponseServerError(loader.get_template("503.html").render())
        response.status_code = 503
        response["Retry-After"] = "30"
        return response
    return defaults.server_error(request)
