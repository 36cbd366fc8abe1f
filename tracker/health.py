"""What an operator asks of a running Tandem, read cheaply: is the broker there and how many
tasks wait in it, and when did the periodic jobs (the SLA sweep, the mail poll) last finish.
/healthz and /metrics both read these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from amqp.exceptions import NotFound
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from kombu import Connection
from kombu.exceptions import ChannelError

from .models import Heartbeat
from .services import MAIL_POLL, SLA_SWEEP


@dataclass(frozen=True)
class BrokerState:
    up: bool
    # Tasks waiting in Tandem's queues; None when the broker is down or cannot say.
    queue_depth: int | None


def queue_names() -> list[str]:
    """The queues Tandem's workers consume: the default one plus any declared in settings."""
    from .celery import app  # the Celery app imports the settings; read at call time

    names = [app.conf.task_default_queue]
    for queue in app.conf.task_queues or ():
        name = getattr(queue, "name", queue)
        if name not in names:
            names.append(name)
    return names


def broker_state(timeout: float = 2.0) -> BrokerState:
    """One connection: reach the broker, then count what waits in each queue (on Redis a
    pipeline of LLENs over the priority lists, via kombu's passive declare)."""
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=timeout,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            try:
                depth: int | None = 0
                channel = conn.default_channel
                for name in queue_names():
                    try:
                        depth += channel.queue_declare(queue=name, passive=True).message_count  # type: ignore[operator]
                    except (ChannelError, NotFound):
                        continue  # no such queue yet: nothing was ever queued (or all taken)
            except Exception:  # noqa: BLE001 - a transport that cannot count: say so, not fail
                depth = None
    except Exception:  # noqa: BLE001 - any failure to reach the broker means "down"
        return BrokerState(up=False, queue_depth=None)
    return BrokerState(up=True, queue_depth=depth)


@dataclass(frozen=True)
class JobAges:
    sla_sweep_at: datetime | None
    mail_poll_at: datetime | None
    read: bool  # False: the database could not be read

    def age(self, at: datetime | None, now: datetime) -> float | None:
        return None if at is None else round(max((now - at).total_seconds(), 0.0), 1)


def job_ages() -> JobAges:
    """When the SLA sweep and the mail poll last finished (one query)."""
    try:
        rows = dict(Heartbeat.objects.filter(name__in=[SLA_SWEEP, MAIL_POLL]).values_list("name", "at"))
    except DatabaseError:
        return JobAges(None, None, read=False)
    return JobAges(rows.get(SLA_SWEEP), rows.get(MAIL_POLL), read=True)


def sweep_stale_after() -> float:
    """Seconds without a finished sweep before /healthz answers 503: HEALTHZ_SWEEP_STALE_SECONDS,
    by default ten sweep periods and never under two minutes (a busy worker may run late)."""
    configured = getattr(settings, "HEALTHZ_SWEEP_STALE_SECONDS", None)
    if configured:
        return float(configured)
    return max(10 * settings.SLA_SWEEP_SECONDS, 120.0)


def health_report() -> tuple[dict[str, object], bool]:
    """The /healthz body and whether Tandem is healthy: the database answers and the SLA
    sweep has finished recently. A sweep that never ran (a fresh install before beat's
    first tick) is "never", reported but not failing; the broker and the queue depth are
    reported, not judged (the web keeps taking writes with Redis down)."""
    database = _database_state()
    broker = broker_state()
    ages = job_ages() if database == "ok" else JobAges(None, None, read=False)
    now = timezone.now()
    sweep_age = ages.age(ages.sla_sweep_at, now)
    limit = sweep_stale_after()
    if not ages.read:
        sweep = "unknown"
    elif sweep_age is None:
        sweep = "never"
    else:
        sweep = "stale" if sweep_age > limit else "ok"
    body: dict[str, object] = {
        "database": database,
        "broker": "ok" if broker.up else "down",
        "sla_sweep": sweep,
        "sla_sweep_age_seconds": sweep_age,
        "sla_sweep_stale_after_seconds": limit,
        "mail_poll_age_seconds": ages.age(ages.mail_poll_at, now),
        "queue_depth": broker.queue_depth,
    }
    return body, database == "ok" and sweep != "stale"


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "down"
    return "ok"
