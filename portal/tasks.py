"""Celery tasks of the portal."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives


@shared_task(bind=True, ignore_result=True, max_retries=5)
def portal_mail_send(self, subject, body, html, to):
    """Send one portal mail (a password reset); retried with backoff when the server fails."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Auto-Submitted": "auto-generated"},
    )
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any failure of the send is retried
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
