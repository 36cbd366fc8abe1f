"""Celery tasks of the customer channel: take ids, call the services, idempotent."""

from celery import shared_task
from django.conf import settings

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


def _active_mailboxes():
    return (
        Mailbox.objects.filter(active=True)
        .exclude(imap_url="")
        .select_related("default_service", "default_customer")
    )


@shared_task(ignore_result=True, acks_late=True)
def mail_poll():
    """Beat, every MAIL_POLL_SECONDS: poll each active mailbox. One mailbox's failure (kept
    on the mailbox for the settings page) does not stop the others. With MAIL_POLL_WORKERS
    n > 1 each mailbox is polled by n tasks at once, each taking its share of the UIDs."""
    parts = max(1, int(settings.MAIL_POLL_WORKERS))
    polled = 0
    for mailbox in _active_mailboxes():
        if parts > 1:
            for part in range(parts):
                enqueue(mail_poll_shard, mailbox.pk, part, parts)
            polled += 1
            continue
        try:
            mailbox_poll(mailbox=mailbox)
            polled += 1
        except Exception:  # noqa: BLE001, S112 - recorded on the mailbox by mailbox_poll
            continue
    heartbeat_record(MAIL_POLL)  # the round is over (a failed mailbox shows on its page)
    return polled


@shared_task(ignore_result=True, acks_late=True)
def mail_poll_shard(mailbox_id, part, parts):
    """One share (UID ≡ part mod parts) of one mailbox's unseen mail; a mailbox gone or
    switched off meanwhile is skipped. Safe to run twice (mail.inbound is exactly-once)."""
    mailbox = _active_mailboxes().filter(pk=mailbox_id).first()
    if mailbox is None:
        return 0
    try:
        return sum(mailbox_poll(mailbox=mailbox, shard=(int(part), int(parts))).values())
    except Exception:  # noqa: BLE001 - recorded on the mailbox by mailbox_poll
        return 0
