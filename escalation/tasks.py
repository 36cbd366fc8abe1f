from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from .models import Escalation


@shared_task(acks_late=True)
def notify_fix_returned(escalation_id):
    """Tell the support assignee that development finished (or dropped) their card.

    Idempotent enough for at-least-once delivery: a duplicate mail is the worst outcome."""
    escalation = (
        Escalation.objects.select_related("incident__assignee", "card", "from_assignee", "from_team__lead")
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None:
        return 0
    person = escalation.incident.assignee or escalation.from_assignee or escalation.from_team.lead
    if person is None or not person.email:
        return 0
    incident, card = escalation.incident, escalation.card
    return send_mail(
        subject=f"[{incident.key}] {card.key} is {escalation.get_outcome_display().lower()}",
        message=(
            f"{incident.key} {incident.title}\n\nDevelopment card {card.key}: "
            f"{escalation.get_outcome_display()}.\nThe incident is back with {incident.team}."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[person.email],
    )
