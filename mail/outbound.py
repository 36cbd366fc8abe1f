"""Mail to customers: acknowledgement, every public reply, resolution (SPEC §13).

The incident's services call the hooks below inside their transaction; they only write an
OutboundMail row (its Message-ID fixed now) and publish the send after commit. Sending is a
Celery task (mail.tasks.mail_send) that locks the row, so one mail is sent by one worker, and
a failed send is retried with backoff until MAIL_SEND_MAX_ATTEMPTS, then marked failed on the
comment for the agent to see and retry. A lost publish is found again by the beat sweep.
"""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from incidents.models import Comment, Incident, Status
from incidents.services import comment_set_delivery
from tracker.exceptions import DomainError
from tracker.tasks import enqueue

from .hooks import extra_context
from .models import InboundMessage, Mailbox, MailKind, OutboundMail, Outcome, SendState

logger = logging.getLogger(__name__)
# The mailbox a mail being processed came in through: the incident it opens answers from
# that mailbox (mail.inbound sets it around incident_create).
_arriving_through: ContextVar[Mailbox | None] = ContextVar("arriving_through", default=None)

AUTOMATIC_KINDS = {MailKind.ACKNOWLEDGEMENT, MailKind.RESOLUTION}
# Headers stay readable: the first mail of the thread and the latest ones.
MAX_REFERENCES = 20


def subject_for(incident) -> str:
    return f"[{incident.key}] {incident.title}"


@contextmanager
def arriving_through(mailbox: Mailbox) -> Iterator[None]:
    """While a mail that came in through `mailbox` opens an incident."""
    token = _arriving_through.set(mailbox)
    try:
        yield
    finally:
        _arriving_through.reset(token)


def mailbox_for(incident) -> Mailbox | None:
    """The mailbox the incident's first mail came in through, else its service's mailbox."""
    arriving = _arriving_through.get()
    if arriving is not None:
        return arriving
    came_in = (
        InboundMessage.objects.filter(incident=incident)
        .order_by("received_at", "id")
        .select_related("mailbox")
    ).first()
    if came_in is not None:
        return came_in.mailbox
    return Mailbox.objects.filter(default_service=incident.service_id, active=True).order_by("id").first()


def own_addresses() -> set[str]:
    """Tandem's own From addresses: mail from them is never processed (no loops)."""
    return {a.lower() for a in Mailbox.objects.values_list("address", flat=True)} | {
        settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].rstrip(">").strip().lower()
    }


def _from_address(mailbox) -> str:
    return mailbox.address if mailbox else settings.DEFAULT_FROM_EMAIL


def _new_message_id(incident, from_address: str) -> str:
    domain = from_address.rpartition("@")[2].rstrip(">").strip() or "tandem.localhost"
    return f"<{incident.key.lower()}.{uuid.uuid4().hex}@{domain}>"


def recipients(incident) -> tuple[list[str], list[str]]:
    to = [incident.requester.email] if incident.requester_id else []
    cc = sorted({c.email for c in incident.cc.all()} - set(to))
    if not to and cc:
        to, cc = cc[:1], cc[1:]
    return to, cc


def outbound_create(
    *, incident, kind: str, comment=None, at=None, mailbox: Mailbox | None = None
) -> OutboundMail | None:
    """Queue one mail about `incident` to its requester and copies (None when it has none);
    `mailbox` when the caller already knows it (else mailbox_for)."""
    at = at or timezone.now()
    incident = Incident.objects.select_related("requester", "service").get(pk=incident.pk)
    to, cc = recipients(incident)
    if not to:
        return None
    mailbox = mailbox or mailbox_for(incident)
    from_address = _from_address(mailbox)
    mail = OutboundMail.objects.create(
        incident=incident,
        comment=comment,
        mailbox=mailbox,
        kind=kind,
        message_id=_new_message_id(incident, from_address),
        from_address=from_address,
        to=to,
        cc=cc,
        subject=subject_for(incident),
        created_at=at,
    )
    if comment is not None:
        comment_set_delivery(comment_id=comment.pk, state=SendState.PENDING)
    from .tasks import mail_send  # cycle: mail.tasks imports this module

    transaction.on_commit(lambda: _publish(mail_send, mail.pk))
    return mail


def _publish(task, *args, countdown=None):
    if countdown:
        try:
            return task.apply_async(args=args, countdown=countdown, retry=False)
        except Exception as exc:  # noqa: BLE001 - the sweep publishes it again
            logger.warning("broker unavailable, %s not queued now: %s", task.name, exc)
            return None
    return enqueue(task, *args)


# ------------------------------------------------------------------ hooks (incidents/hooks.py)
def mail_on_comment_added(*, comment: Comment) -> None:
    """A staff member's public reply goes to the customer."""
    if comment.public and not comment.is_system and comment.contact_id is None:
        outbound_create(
            incident=comment.incident, kind=MailKind.REPLY, comment=comment, at=comment.created_at
        )


def mail_on_incident_created(*, incident, at) -> None:
    if not incident.requester_id:
        return
    mailbox = mailbox_for(incident)
    if mailbox.acknowledge if mailbox else settings.MAIL_ACKNOWLEDGE:
        outbound_create(incident=incident, kind=MailKind.ACKNOWLEDGEMENT, at=at, mailbox=mailbox)


def mail_on_incident_changed(*, incident, changes, at, actor=None) -> None:
    status = changes.get("status")
    if status and status[1] == Status.RESOLVED and incident.requester_id:
        outbound_create(incident=incident, kind=MailKind.RESOLUTION, at=at)


# ------------------------------------------------------------------ sending
def thread_ids(incident, *, before: OutboundMail) -> list[str]:
    """Every Message-ID of the incident's conversation before `before`, oldest first."""
    out = OutboundMail.objects.filter(incident=incident, created_at__lte=before.created_at).exclude(
        pk=before.pk
    )
    inbound = InboundMessage.objects.filter(
        incident=incident, outcome__in=[Outcome.INCIDENT, Outcome.COMMENT]
    ).exclude(message_id__startswith="<no-id.")
    rows = [(m.created_at, m.message_id) for m in out.only("created_at", "message_id")]
    rows += [(m.received_at, m.message_id) for m in inbound.only("received_at", "message_id")]
    rows.sort()
    return [mid for _, mid in rows if mid]


def _context(mail: OutboundMail) -> dict:
    incident = mail.incident
    base = settings.TANDEM_BASE_URL.rstrip("/")
    return {
        "incident": incident,
        "comment": mail.comment,
        "requester": incident.requester,
        "kind": mail.kind,
        "reply_window": f"{settings.INCIDENT_AUTO_CLOSE_DAYS} days",
        "support_address": mail.from_address,
        "url": f"{base}/incidents/{incident.key}/" if base else "",
        # The portal's link and, on resolution, the rating link (mail.hooks.mail_context).
        **extra_context(incident, mail.kind),
    }


def build_message(mail: OutboundMail) -> EmailMultiAlternatives:
    ctx = _context(mail)
    text = render_to_string(f"mail/outbound/{mail.kind}.txt", ctx)
    html = render_to_string(f"mail/outbound/{mail.kind}.html", ctx)
    headers = {
        "Message-ID": mail.message_id,
        "X-Tandem-Incident": mail.incident.key,
    }
    if mail.in_reply_to:
        headers["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        headers["References"] = mail.references
    if mail.kind in AUTOMATIC_KINDS:
        headers["Auto-Submitted"] = "auto-generated"
    name = mail.mailbox.name if mail.mailbox else "Tandem support"
    message = EmailMultiAlternatives(
        subject=mail.subject,
        body=text,
        from_email=formataddr((name, mail.from_address)),
        to=mail.to,
        cc=mail.cc,
        reply_to=[mail.from_address],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    for attachment in _attachments(mail):
        with attachment.file.open("rb") as f:
            message.attach(attachment.name, f.read(), attachment.content_type)
    return message


def _attachments(mail: OutboundMail):
    """The files an agent attached to the reply go with it."""
    if mail.comment is None:
        return []
    return list(mail.comment.attachments.order_by("id"))


def backoff_seconds(attempts: int) -> int:
    """30 s, 1 min, 2 min, 4 min, ... capped at an hour."""
    return min(3600, 30 * 2 ** max(0, attempts - 1))


def outbound_send(*, outbound_id: int) -> str:
    """Send one mail (called by the task). Returns "sent", "retry", "failed" or "skipped"."""
    now = timezone.now()
    with transaction.atomic():
        mail = (
            OutboundMail.objects.select_for_update(of=("self",))
            .select_related("incident", "comment", "mailbox", "incident__requester")
            .filter(pk=outbound_id)
            .first()
        )
        if mail is None or mail.state != SendState.PENDING:
            return "skipped"
        if not mail.in_reply_to and not mail.references:
            ids = thread_ids(mail.incident, before=mail)
            if ids:
                mail.in_reply_to = ids[-1]
                kept = ids if len(ids) <= MAX_REFERENCES else [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
                mail.references = " ".join(kept)
        mail.attempts += 1
        try:
            message = build_message(mail)
            with get_connection(fail_silently=False) as connection:
                connection.send_messages([message])
        except Exception as exc:  # noqa: BLE001 - any failure of the send is recorded and retried
            error = f"{type(exc).__name__}: {exc}"[:2000]
            mail.last_error = error
            final = mail.attempts >= settings.MAIL_SEND_MAX_ATTEMPTS
            mail.state = SendState.FAILED if final else SendState.PENDING
            mail.next_attempt_at = None if final else now + timedelta(seconds=backoff_seconds(mail.attempts))
            mail.save()
            if mail.comment_id:
                note = error if final else f"Attempt {mail.attempts} failed, retrying: {error}"
                comment_set_delivery(comment_id=mail.comment_id, state=mail.state, error=note)
            logger.warning("mail %s attempt %s failed: %s", mail.message_id, mail.attempts, error)
            result = "failed" if final else "retry"
        else:
            mail.state = SendState.SENT
            mail.sent_at = timezone.now()
            mail.last_error = ""
            mail.next_attempt_at = None
            mail.save()
            if mail.comment_id:
                comment_set_delivery(comment_id=mail.comment_id, state=SendState.SENT)
            result = "sent"
    if result == "retry":
        from .tasks import mail_send  # cycle: mail.tasks imports this module

        _publish(mail_send, mail.pk, countdown=backoff_seconds(mail.attempts))
    return result


def outbound_retry(*, outbound: OutboundMail) -> OutboundMail:
    """An agent sends a failed mail again (a fresh round of attempts)."""
    with transaction.atomic():
        mail = OutboundMail.objects.select_for_update().get(pk=outbound.pk)
        if mail.state != SendState.FAILED:
            raise DomainError(
                f"This mail is {mail.get_state_display().lower()}, not failed.", code="not_failed"
            )
        mail.state = SendState.PENDING
        mail.attempts = 0
        mail.next_attempt_at = None
        mail.save()
        if mail.comment_id:
            comment_set_delivery(comment_id=mail.comment_id, state=SendState.PENDING, error="Sending again.")
        from .tasks import mail_send  # cycle: mail.tasks imports this module

        transaction.on_commit(lambda: _publish(mail_send, mail.pk))
    return mail


def outbound_due(*, now=None, grace_seconds=60) -> list[int]:
    """Pending mails whose publish may have been lost (the beat sweep re-queues them)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=grace_seconds)
    qs = OutboundMail.objects.filter(state=SendState.PENDING, created_at__lte=cutoff)
    qs = qs.exclude(next_attempt_at__gt=cutoff)
    return list(qs.order_by("created_at").values_list("pk", flat=True)[:500])
