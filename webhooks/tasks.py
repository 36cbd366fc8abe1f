from celery import shared_task

from .services import delivery_attempt, due_delivery_ids


@shared_task(acks_late=True, ignore_result=True)
def webhook_deliver(delivery_id):
    """Send one delivery; harmless when run twice (see services.delivery_attempt)."""
    return delivery_attempt(delivery_id)


@shared_task(acks_late=True, ignore_result=True)
def webhooks_retry_due():
    """Beat: send every pending delivery whose time has come (retries, lost publishes)."""
    sent = 0
    for delivery_id in due_delivery_ids():
        if delivery_attempt(delivery_id) is not None:
            sent += 1
    return sent
