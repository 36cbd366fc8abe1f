"""Celery tasks of the customer channel: take ids, call the services, idempotent."""

from celery import shared_task

from tracker.tasks import enqueue


@shared_task(ignore_result=True, acks_late=True)
def mail_send(outbound_id):
    """Send one outbound mail; a second run of a sent mail does nothing."""
    from .outbound import outbound_send

    return outbound_send(outbound_id=outbound_id)


@shared_task(ignore_result=True)
def mail_send_due():
    """Beat: publish again the pending mails whose publish was lost (broker down, worker
    killed between commit and publish) or whose backoff has passed."""
    from .outbound import outbound_due

    due = outbound_due()
    for pk in due:
        enqueue(mail_send, pk)
    return len(due)
