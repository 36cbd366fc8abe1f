"""Celery tasks of the customer channel: take ids, call the services, idempotent."""

from celery import shared_task

from tracker.services import MAIL_POLL, heartbeat_record
from tracker.tasks import enqueue

from .imap import mailbox_poll
from .models import Mailbox
from .outbound import outbound_due, outbound_send


@shared_task(ignore_result=True, acks_late=True)
def mail_send(outbound_id):
    """Send one outbound mail; a second run of a sent mail does nothing."""
    return outbound_send(outbound_id=outbound_id)


@shared_task(ignore_result=True)
def mail_send_due():
    """Beat: publish again the pending mails whose publish was lost (broker down, worker
    killed between commit and publish) or whose backoff has passed."""
    due = outbound_due()
    for pk in due:
        enqueue(mail_send, pk)
    return len(due)


@shared_task(ignore_result=True, acks_late=True)
def mail_poll():
    """Beat, every MAIL_POLL_SECONDS: poll each active mailbox. One mailbox's failure (kept
    on the mailbox for the settings page) does not stop the others."""
    polled = 0
    for mailbox in (
        Mailbox.objects.filter(active=True)
        .exclude(imap_url="")
        .select_related("default_service", "default_customer")
    ):
        try:
            mailbox_poll(mailbox=mailbox)
            polled += 1
        except Exception:  # noqa: BLE001, S112 - recorded on the mailbox by mailbox_poll
            continue
    heartbeat_record(MAIL_POLL)  # the round is over (a failed mailbox shows on its page)
    return polled
