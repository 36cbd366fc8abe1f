"""Mail from customers (SPEC §13): what a message is, where it belongs, what it does.

`inbound_process_many` handles fetched messages, each in one transaction: the mail-log row,
the comment or incident, and the status change are written together or not at all. The
poller (mail.imap) flags the messages on the server only after those commits.
"""

import email
import email.policy
import hashlib
import html as html_lib
import logging
import re
from collections.abc import Iterable
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import nh3
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from mailparser_reply import EmailReplyParser

from incidents.attachments import attachment_create, too_big_message
from incidents.models import HoldReason, Incident, IncidentType, Status
from incidents.services import incident_comment, incident_create, incident_transition
from org.selectors import contact_for_address, customer_for_domain
from org.services import contact_get_or_create
from tracker.exceptions import DomainError

from .models import InboundMessage, Mailbox, OutboundMail, Outcome
from .outbound import arriving_through, own_addresses

logger = logging.getLogger(__name__)

KEY_IN_SUBJECT = re.compile(r"\[((?:INC|REQ)-\d+)\]", re.IGNORECASE)
MESSAGE_IDS = re.compile(r"<[^<>\s]+>")
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
MAX_BODY = 20000


class UnknownSender(Exception):
    pass


# ------------------------------------------------------------------ reading a message
def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def _header(msg, name) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a malformed header reads as absent
        return ""
    return str(value or "").strip()


def message_id_of(msg, raw: bytes) -> str:
    """The Message-ID, or one made from the content so a message without one still dedupes."""
    found = MESSAGE_IDS.findall(_header(msg, "Message-ID"))
    if found:
        return found[0][:998]
    return f"<no-id.{hashlib.sha256(raw).hexdigest()[:40]}@tandem.invalid>"


def referenced_ids(msg) -> list[str]:
    ids = MESSAGE_IDS.findall(_header(msg, "In-Reply-To")) + MESSAGE_IDS.findall(_header(msg, "References"))
    return list(dict.fromkeys(ids))


def sender_of(msg) -> tuple[str, str]:
    name, address = parseaddr(_header(msg, "From"))
    return name[:200], address.strip().lower()[:254]


def received_at_of(msg):
    try:
        value = parsedate_to_datetime(_header(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        return timezone.now()
    if value is None:
        return timezone.now()
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.utc)
    return value


def automatic_reason(msg, sender: str, own: set[str] | None = None) -> str:
    """Why a message is automatic mail that must never open or answer anything ("" if not).
    `own`: Tandem's own addresses when the caller has read them (a poll reads them once)."""
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = _header(msg, "Precedence").lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    if msg.get_content_type() == "multipart/report":
        return "delivery status report (multipart/report)"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if _header(msg, name):
            return f"{name} header"
    if (
        _header(msg, "X-Auto-Response-Suppress").lower() in {"all", "oof"}
        and "auto" in _header(msg, "Subject").lower()
    ):
        return "out-of-office reply"
    local = sender.partition("@")[0]
    if not sender or local in {"mailer-daemon", "postmaster"}:
        return "bounce (no sender or mailer-daemon)"
    if sender in (own_addresses() if own is None else own):
        return "mail from Tandem's own address"
    return ""


def _decoded(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError):  # unknown or wrong charset
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def bodies(msg) -> tuple[str, str]:
    """(plain text, sanitised HTML) of the message's body parts, attachments excluded."""
    text, html = "", ""
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and not text:
            text = _decoded(part)
        elif kind == "text/html" and not html:
            html = nh3.clean(_decoded(part))
    if not text and html:
        # No plain part: the text of the sanitised HTML, tags dropped, entities read.
        text = html_lib.unescape(nh3.clean(re.sub(r"<(br|/p|/div|/li)[^>]*>", "\n", html), tags=set()))
    return text, html


def files_of(msg) -> tuple[list[tuple[str, bytes, str]], list[str]]:
    """The message's attachments as (name, bytes, type), and notes on those not kept."""
    kept, notes = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if part.get_content_disposition() != "attachment" and not filename:
            continue
        try:
            content = part.get_payload(decode=True) or b""
        except Exception:  # noqa: BLE001 - an undecodable part is noted, the mail still counts
            notes.append(f"{filename or 'an attachment'} could not be decoded and was not kept.")
            continue
        name = filename or "attachment"
        if len(content) > settings.ATTACHMENT_MAX_BYTES:
            notes.append(f"{name} was not kept: {too_big_message(len(content))}")
            continue
        kept.append((name, content, part.get_content_type()))
    return kept, notes


def latest_reply(text: str) -> str:
    """The new part of a reply: quoted history and signatures stripped (the original is kept)."""
    try:
        reply = EmailReplyParser(languages=REPLY_LANGUAGES).parse_reply(text=text)
    except Exception:  # noqa: BLE001 - the parser's failure must not lose the message
        logger.exception("reply parser failed; keeping the whole text")
        reply = None
    return ((reply if reply and reply.strip() else text) or "").strip()[:MAX_BODY]


# ------------------------------------------------------------------ where it belongs
def incident_for(msg) -> Incident | None:
    """Our Message-IDs in In-Reply-To/References first, then the key in the subject."""
    ids = referenced_ids(msg)
    incidents = Incident.objects.select_related("customer")
    if ids:
        out = OutboundMail.objects.filter(message_id__in=ids).order_by("-created_at").values("incident")[:1]
        found = incidents.filter(pk__in=out).first()
        if found is not None:
            return found
        seen = (
            InboundMessage.objects.filter(message_id__in=ids, incident__isnull=False)
            .order_by("-received_at")
            .values("incident")[:1]
        )
        found = incidents.filter(pk__in=seen).first()
        if found is not None:
            return found
    match = KEY_IN_SUBJECT.search(_header(msg, "Subject"))
    if match:
        # Keys are stored upper case: an exact match uses the key's unique index (iexact
        # compares UPPER(key) and reads every incident).
        return incidents.filter(key=match.group(1).upper()).first()
    return None


def _contact_at(customer, address, name):
    if customer is None:
        return None
    return (
        contact_for_address(address, customer=customer)
        or contact_get_or_create(customer=customer, email=address, name=name)[0]
    )


def _route(row: InboundMessage, msg, mailbox: Mailbox, at, own: set[str] | None = None) -> None:
    """Do what the message means; sets row.outcome, incident, comment."""
    reason = automatic_reason(msg, row.from_address, own)
    if reason:
        row.outcome, row.error = Outcome.IGNORED_AUTO, reason
        return
    text, row.html = bodies(msg)
    body = latest_reply(text) or "(empty message)"
    files, notes = files_of(msg)
    if notes:
        body = body + "\n\n" + "\n".join(f"[{n}]" for n in notes)
        row.error = " ".join(notes)[:4000]
    incident = incident_for(msg)
    if incident is not None and incident.status in (Status.CLOSED, Status.CANCELLED):
        incident = _follow_up(row, msg, mailbox, incident, body, at)
        _attach(incident, files, contact=incident.requester, at=at)
        row.outcome = Outcome.INCIDENT
        return
    if incident is not None:
        contact = _contact_at(incident.customer, row.from_address, row.from_name)
        text_for_staff = body if contact else f"From {row.from_address}:\n\n{body}"
        comment = incident_comment(
            incident=incident,
            actor=None,
            body=text_for_staff,
            public=True,
            at=at,
            via="email",
            contact=contact,
            attachments=files,
        )
        incident = comment.incident  # read fresh under its lock by incident_comment
        if incident.status == Status.RESOLVED or (
            incident.status == Status.ON_HOLD and incident.hold_reason == HoldReason.AWAITING_CUSTOMER
        ):
            what = "reopened" if incident.status == Status.RESOLVED else "answered"
            incident_transition(
                incident=incident,
                actor=None,
                status=Status.IN_PROGRESS,
                note=f"The customer {what} by e-mail ({row.from_address}).",
                at=at,
            )
        row.outcome, row.incident, row.comment = Outcome.COMMENT, incident, comment
        return
    incident = _new_incident(row, msg, mailbox, body, at)
    _attach(incident, files, contact=incident.requester, at=at)
    row.outcome = Outcome.INCIDENT


def _attach(incident, files, *, contact, at):
    for upload in files:
        attachment_create(incident=incident, upload=upload, contact=contact, at=at)


def _new_incident(row, msg, mailbox, body, at, *, follows=None) -> Incident:
    # Who the sender belongs to: their contact's customer, else their domain's, else the
    # mailbox's default (org.selectors.customer_for_address, with the contact kept).
    known = contact_for_address(row.from_address)
    customer = (
        known.customer if known else customer_for_domain(row.from_address.rpartition("@")[2])
    ) or mailbox.default_customer
    if customer is None:
        raise UnknownSender(
            f"{row.from_address} is no contact of any customer and its domain belongs to none; "
            "add the sender as a contact (or set the mailbox's default customer) and retry."
        )
    if known is None or known.customer_id != customer.pk:
        known = _contact_at(customer, row.from_address, row.from_name)
    subject = re.sub(r"\s+", " ", _header(msg, "Subject")).strip() or "(no subject)"
    # The acknowledgement incident_create queues answers from the mailbox it came in to.
    with arriving_through(mailbox):
        incident = incident_create(
            actor=None,
            title=subject[:200],
            description=body,
            service=mailbox.default_service,
            type=IncidentType.INCIDENT,
            customer=customer,
            requester=known,
            contact=f"{row.from_name} <{row.from_address}>".strip()[:200],
            follows=follows,
            at=at,
        )
    row.incident = incident
    return incident


def _follow_up(row, msg, mailbox, old: Incident, body, at) -> Incident:
    text = f"Follows {old.key}, which was {old.status} when this mail arrived.\n\n{body}"
    return _new_incident(row, msg, mailbox, text, at, follows=old)


# ------------------------------------------------------------------ exactly once
def inbound_process(
    *, mailbox: Mailbox, imap_key: str, raw: bytes, own: set[str] | None = None
) -> InboundMessage:
    """Process one message fetched from `mailbox` exactly once and return its log row
    (`own`: Tandem's own addresses, read once per poll by the caller; else read here)."""
    return inbound_process_many(mailbox=mailbox, fetched=[(imap_key, raw)], own=own)[0]


def inbound_process_many(
    *, mailbox: Mailbox, fetched: Iterable[tuple[str, bytes]], own: set[str] | None = None
) -> list[InboundMessage]:
    """Process messages fetched from `mailbox`, given as (IMAP key, raw bytes), each exactly
    once and in its own transaction; returns their log rows in the same order.

    One read finds the messages already logged under their IMAP key (the poller died before
    flagging them), returned as they are, and the Message-IDs already taken: such a message
    is a duplicate, recorded without being processed again. A message processed meanwhile by
    another poller is caught by the unique constraints when its row is written, which rolls
    back its work. Anything that fails is kept as `failed` with its error for a person to
    retry (a failed message keeps its Message-ID: a later copy is a duplicate)."""
    prepared = [_prepared(mailbox, imap_key, raw) for imap_key, raw in fetched]
    if not prepared:
        return []
    keys = [row.imap_key for row, _ in prepared]
    ids = [row.message_id for row, _ in prepared]
    known = list(
        InboundMessage.objects.filter(mailbox=mailbox)
        .filter(Q(imap_key__in=keys) | (Q(message_id__in=ids) & ~Q(outcome=Outcome.DUPLICATE)))
        .defer("raw", "html")
    )
    logged = {row.imap_key: row for row in known}
    taken = {row.message_id for row in known if row.outcome != Outcome.DUPLICATE}
    out = []
    for row, msg in prepared:
        done = logged.get(row.imap_key)
        if done is None:
            done = _process(row, msg, mailbox, own, taken=row.message_id in taken)
            logged[done.imap_key] = done
            if done.outcome != Outcome.DUPLICATE:
                taken.add(done.message_id)
        out.append(done)
    return out


def _prepared(
    mailbox: Mailbox, imap_key: str, raw: bytes
) -> tuple[InboundMessage, email.message.EmailMessage]:
    """The unsaved log row of a fetched message, and the message parsed (an oversized one
    from its headers only)."""
    oversized = len(raw) > settings.MAIL_INBOUND_MAX_BYTES
    msg = parse(raw[:65536]) if oversized else parse(raw)
    name, address = sender_of(msg)
    row = InboundMessage(
        mailbox=mailbox,
        imap_key=imap_key,
        message_id=message_id_of(msg, raw),
        from_address=address,
        from_name=name,
        subject=_header(msg, "Subject")[:998],
        received_at=received_at_of(msg),
        raw=raw,
        attempts=1,
    )
    return row, msg


def _process(row: InboundMessage, msg, mailbox: Mailbox, own: set[str] | None, *, taken: bool):
    if taken:
        return _save_duplicate(row)
    size = len(row.raw)
    if size > settings.MAIL_INBOUND_MAX_BYTES:
        row.outcome = Outcome.FAILED
        row.error = f"The message is {size} bytes, over the limit of {settings.MAIL_INBOUND_MAX_BYTES}."
        return _save_alone(row)
    try:
        with transaction.atomic():
            _apply(row, msg, mailbox, own)
            # The row is written last, in the same transaction: the unique constraints on it
            # are what make a message processed once, whoever else is processing it.
            row.save()
            return row
    except IntegrityError as exc:
        conflict: Exception = exc
    except Exception as exc:  # noqa: BLE001 - a message we cannot process is logged, not lost
        logger.exception("mail %s failed", row.message_id)
        return _save_failed(row, exc)
    # A unique constraint said no: the same IMAP message (another poller got it first),
    # another message with the same Message-ID, or something else the work ran into.
    same = InboundMessage.objects.filter(mailbox=mailbox, imap_key=row.imap_key).first()
    if same is not None:
        return same
    if _message_id_taken(row):
        return _save_duplicate(row)
    logger.error("mail %s failed: %s", row.message_id, conflict)
    return _save_failed(row, conflict)


def _message_id_taken(row: InboundMessage) -> bool:
    return (
        InboundMessage.objects.filter(mailbox=row.mailbox, message_id=row.message_id)
        .exclude(outcome=Outcome.DUPLICATE)
        .exists()
    )


def _reset(row: InboundMessage, outcome: str, error: str) -> InboundMessage:
    row.pk = None
    row.outcome, row.error = outcome, error[:4000]
    row.incident = row.comment = None
    return row


def _save_failed(row: InboundMessage, exc: Exception) -> InboundMessage:
    return _save_alone(_reset(row, Outcome.FAILED, f"{type(exc).__name__}: {exc}"))


def _save_duplicate(row: InboundMessage) -> InboundMessage:
    return _save_alone(
        _reset(row, Outcome.DUPLICATE, "A message with this Message-ID was already processed.")
    )


def _apply(row, msg, mailbox, own=None):
    row.outcome = Outcome.PROCESSING
    _route(row, msg, mailbox, timezone.now(), own)


def _save_alone(row: InboundMessage) -> InboundMessage:
    """Write a row that did nothing (failed, duplicate) in its own transaction. Another poller
    may have logged the same IMAP message meanwhile (its row is returned), or taken the
    Message-ID (this one is then a duplicate)."""
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        same = InboundMessage.objects.filter(mailbox=row.mailbox, imap_key=row.imap_key).first()
        if same is not None:
            return same
        if row.outcome == Outcome.DUPLICATE or not _message_id_taken(row):
            raise
        return _save_duplicate(row)
    return row


def inbound_retry(*, message: InboundMessage) -> InboundMessage:
    """Process a failed message again from its stored original (a person fixed the cause)."""
    with transaction.atomic():
        row = InboundMessage.objects.select_for_update().select_related("mailbox").get(pk=message.pk)
        if row.outcome != Outcome.FAILED:
            raise DomainError(
                f"This message is {row.get_outcome_display().lower()}, not failed.", code="not_failed"
            )
        raw = bytes(row.raw)
        row.attempts += 1
        try:
            with transaction.atomic():
                msg = parse(raw)
                if (
                    InboundMessage.objects.filter(mailbox=row.mailbox, message_id=row.message_id)
                    .exclude(pk=row.pk)
                    .exclude(outcome__in=[Outcome.DUPLICATE, Outcome.FAILED])
                    .exists()
                ):
                    row.outcome, row.error = Outcome.DUPLICATE, "Processed meanwhile under another copy."
                else:
                    _apply(row, msg, row.mailbox)
                    row.error = "" if row.outcome != Outcome.IGNORED_AUTO else row.error
                row.save()
        except Exception as exc:  # noqa: BLE001 - kept failed with the new error
            logger.exception("retry of mail %s failed", row.message_id)
            fresh = InboundMessage.objects.get(pk=row.pk)
            fresh.attempts = row.attempts
            fresh.error = f"{type(exc).__name__}: {exc}"[:4000]
            fresh.save(update_fields=["attempts", "error"])
            return fresh
    return row


def recipients_addresses(msg) -> list[str]:
    return [a.lower() for _, a in getaddresses([_header(msg, "To"), _header(msg, "Cc")]) if a]
