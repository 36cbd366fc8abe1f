"""Celery tasks of the SLA engine. They take ids, call services, and are idempotent:
delivered twice, or re-run after a worker died mid-way, they fire nothing twice."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from tracker.services import SLA_SWEEP, heartbeat_record
from tracker.tasks import enqueue

from . import services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sla_sweep():
    """Beat, every SLA_SWEEP_SECONDS: fire warnings and breaches that fell due."""
    # Each run stays within one period; after downtime, a backlog left over is shared out
    # to another worker at once (SKIP LOCKED keeps concurrent sweepers apart).
    counts = services.sla_sweep_tick(max_seconds=settings.SLA_SWEEP_SECONDS)
    # Finished: /healthz turns 503 when this grows stale (beat or every worker gone).
    heartbeat_record(SLA_SWEEP)
    for policy_id in services.policies_awaiting_retarget(now=timezone.now()):
        enqueue(sla_policy_retarget, policy_id)
    if counts["warnings"] or counts["breaches"]:
        logger.info("sla sweep: %s", counts)
    if counts["more"]:
        enqueue(sla_sweep)
    return counts


@shared_task(ignore_result=True)
def sla_handle_events(event_ids):
    """Mail, escalate, declare major for fired events; each event is handled once."""
    handled = 0
    for event_id in event_ids:
        handled += services.sla_event_handle(event_id=event_id)
    return handled


@shared_task(ignore_result=True)
def sla_policy_retarget(policy_id):
    """Recompute the clocks a policy runs after an edit (idempotent; see the service)."""
    return services.policy_retarget(policy_id=policy_id)
