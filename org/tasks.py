"""Celery tasks of the organisation: take ids, call the services, idempotent."""

from celery import shared_task

from .services.access import invitation_send


@shared_task(bind=True, ignore_result=True, acks_late=True, max_retries=5)
def portal_invitation_send(self, invitation_id):
    """E-mail one portal invitation; a sent, used or revoked one is skipped, so a re-run is
    harmless. A failed send is kept on the invitation (the contact's page shows it) and
    retried with backoff: 30 s, 1, 2, 4, 8 min."""
    try:
        return invitation_send(invitation_id=invitation_id)
    except Exception as exc:  # noqa: BLE001 - any failure of the send is recorded and retried
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
