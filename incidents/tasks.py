"""Background work on incidents. Each task takes ids, calls services and is safe to run twice."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role

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
    """Mail every manager about a major incident, once: the claim is a conditional update."""
    now = timezone.now()
    claimed = Incident.objects.filter(
        pk=incident_id, is_major=True, managers_notified_at__isnull=True
    ).update(managers_notified_at=now)
    if not claimed:
        return 0
    incident = Incident.objects.select_related("service", "team").get(pk=incident_id)
    managers = list(
        User.objects.filter(is_active=True, groups__name=Role.MANAGER)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    if not managers:
        return 0
    path = reverse("incidents:detail", kwargs={"key": incident.key})
    send_mail(
        subject=f"[Tandem] Major incident {incident.key}: {incident.title}",
        message=(
            f"{incident.key} was declared a major incident.\n\n"
            f"Service: {incident.service}\nPriority: {incident.priority}\nTeam: {incident.team}\n"
            f"Status: {incident.get_status_display()}\n\n{incident.description}\n\nOpen it: {path}\n"
        ),
        from_email=None,
        recipient_list=managers,
    )
    return len(managers)
