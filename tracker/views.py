import hmac
import os
import sys

import prometheus_client
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect
from django.template import loader
from django.views import defaults
from django.views.decorators.cache import cache_control, never_cache
from prometheus_client import multiprocess

from .health import health_report
from .metrics import TandemCollector
from .navigation import nav_for


@login_not_required
@never_cache
def healthz(request):
    """Database, broker, the age of the last SLA sweep and mail poll, the queue depth; 503
    when the database is down or the sweep is stale (see tracker.health)."""
    body, healthy = health_report()
    return JsonResponse(body, status=200 if healthy else 503)


@login_not_required
@never_cache
def metrics(request):
    """Prometheus text format: django-prometheus's request metrics of this process (of
    every gunicorn worker when PROMETHEUS_MULTIPROC_DIR is set) and Tandem's gauges. With
    METRICS_TOKEN set, only `Authorization: Bearer <token>` may read it (401 otherwise)."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            response = JsonResponse(
                {"code": "not_authenticated", "detail": "Send the metrics token as a Bearer token."},
                status=401,
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_metrics = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(process_metrics)
    else:
        process_metrics = prometheus_client.REGISTRY
    tandem = prometheus_client.CollectorRegistry(auto_describe=False)
    tandem.register(TandemCollector())
    body = prometheus_client.generate_latest(process_metrics) + prometheus_client.generate_latest(tandem)
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)


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
