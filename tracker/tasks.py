import logging

from celery import shared_task
from django.db import transaction
from kombu.exceptions import OperationalError

from . import services

logger = logging.getLogger(__name__)


def enqueue(task, *args, **kwargs):
    """Publish a task, never failing the caller when the broker is down.

    Work that must happen eventually is also found again by a periodic sweep (SLA timers,
    webhook deliveries), so a lost publish delays it, never loses it.
    """
    try:
        return task.apply_async(args=args, kwargs=kwargs, retry=False)
    except (OperationalError, OSError) as exc:
        logger.warning("broker unavailable, %s not queued now: %s", task.name, exc)
        return None


def enqueue_on_commit(task, *args, **kwargs):
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs))


@shared_task
def heartbeat():
    """Beat's sign of life, visible in the worker log."""
    logger.info("tandem heartbeat")
    return "ok"


@shared_task
def ping(value):
    """Round-trip check used by the health tests: a real worker answers."""
    return {"pong": value}


@shared_task(ignore_result=True)
def idempotency_keys_expire():
    """Hourly: forget Idempotency-Keys older than IDEMPOTENCY_KEEP_HOURS."""
    return services.idempotency_keys_expire()
