"""Background work on incidents. Each task takes ids, calls services and is safe to run twice."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.services import notify_major_incident

from .models import Incident, Status
from .services import incident_auto_close

logger = logging.getLogger(__name__)


@shared_task
def incidents_auto_close():
    """Close incidents resolved more than INCIDENT_AUTO_CLOSE_DAYS ago."""
    now = timezone.now()
    cutoff = now - timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)
    ids = list(
        Incident.objects.filter(status=Status.RESOLVED, resolved_at__lte=cutoff)
        .order_by("resolved_at")
        .values_list("pk", flat=True)[:1000]
    )
    closed = sum(1 for pk in ids if incident_auto_close(incident_id=pk, cutoff=cutoff, at=now))
    if closed:
        logger.info("auto-closed %d incident(s)", closed)
    return closed


@shared_task
def incidents_notify_major(incident_id):
    """Tell every manager about a major incident, once: the claim is a conditional update,
    committed together with the notifications (in the app, and e-mailed through the
    notifications service, so each manager's preference for the kind holds and the link
    is absolute). Returns how many managers were notified."""
    now = timezone.now()
    with transaction.atomic():
        claimed = Incident.objects.filter(
            pk=incident_id, is_major=True, managers_notified_at__isnull=True
        ).update(managers_notified_at=now)
        if not claimed:
            return 0
        incident = Incident.objects.select_related("service", "team").get(pk=incident_id)
        return len(notify_major_incident(incident=incident, inline_email=True))
