"""The customer channel's section (issue 16): mail ingested from a real Dovecot through the
real poller, and staff replies sent to a local aiosmtpd sink. The servers are the channel
tests' own (tests/channel/mailservers.py)."""

import multiprocessing
import os
import shutil
import tempfile
import time
import traceback

from django.db import connections
from django.test import override_settings

from incidents.models import Incident, Status
from incidents.services import incident_comment, incident_create
from mail.imap import mailbox_poll
from mail.inbound import KEY_IN_SUBJECT
from mail.models import InboundMessage, Mailbox, MailKind, OutboundMail, SendState
from mail.outbound import outbound_send
from org.models import Customer
from org.services import contact_get_or_create, customer_set_email_domains
from tests.channel.mailservers import Dovecot, SmtpSink
from tests.channel.test_inbound import mail

from .measure import Stopwatch

DOMAIN = "bench-mail.example"
REPLY_SHARE = 0.6
SENDERS = 50
TARGETS = 200


def _messages(n: int, keys: list[str]) -> tuple[list[bytes], int]:
    """n mails from 50 senders at the customer's domain: 60% replies to existing incidents
    (the key in the subject, as a mail client's "Re:" keeps it), 40% new problems."""
    replies = round(n * REPLY_SHARE)
    out = []
    for i in range(n):
        sender = f"Customer {i % SENDERS} <c{i % SENDERS}@{DOMAIN}>"
        if i < replies:
            subject = f"Re: [{keys[i % len(keys)]}] Our order fails"
            body = f"Still failing, attempt {i}.\n\nOn Monday Tandem wrote:\n> Which order?"
        else:
            subject, body = f"Bench mail problem {i}", f"Order {i} cannot be paid."
        message_id = f"<bench-{i}-{time.time_ns()}@{DOMAIN}>"
        out.append(mail(sender=sender, subject=subject, body=body, message_id=message_id))
    return out, replies


def _open_incidents(customer, service, admin, n) -> list[str]:
    """n open incidents of the mail customer, logged for its senders (the replies' threads):
    a customer answers their own incidents, not another company's."""
    existing = list(
        Incident.objects.filter(customer=customer, requester__isnull=False)
        .exclude(status__in=[Status.CLOSED, Status.CANCELLED, Status.RESOLVED])
        .order_by("pk")
        .values_list("key", flat=True)[:n]
    )
    for i in range(len(existing), n):
        requester, _ = contact_get_or_create(
            customer=customer, email=f"c{i % SENDERS}@{DOMAIN}", name=f"Customer {i % SENDERS}"
        )
        incident = incident_create(
            actor=admin, title=f"Bench mail thread {i}", service=service, customer=customer,
            requester=requester, description="Opened for the mail benchmark's replies.",
        )  # fmt: skip
        existing.append(incident.key)
    keys = [k for k in existing if KEY_IN_SUBJECT.fullmatch(f"[{k}]")]
    if not keys:
        raise RuntimeError("the mail customer has no open incident to reply to")
    return keys


def _servers_available() -> str:
    if not os.path.exists("/usr/sbin/dovecot"):
        return "dovecot-imapd is not installed"
    if os.geteuid() != 0:
        return "the throwaway Dovecot needs root"
    return ""


def _poll_share(mailbox_id: int, part: int, parts: int) -> dict[str, int]:
    """One poller process: poll its share of the mailbox until nothing is left."""
    box = Mailbox.objects.select_related("default_service", "default_customer").get(pk=mailbox_id)
    outcomes = {"polls": 0}
    while counts := mailbox_poll(mailbox=box, shard=(part, parts)):
        outcomes["polls"] += 1
        for k, v in counts.items():
            outcomes[str(k)] = outcomes.get(str(k), 0) + v
    return outcomes


def _send_share(ids: list[int]) -> dict[str, int]:
    """One sender process: send these mails, as one Celery worker process would."""
    results: dict[str, int] = {}
    for pk in ids:
        outcome = outbound_send(outbound_id=pk)
        results[outcome] = results.get(outcome, 0) + 1
    return results


def _child(target, args, results) -> None:
    try:
        results.put((target(*args), ""))
    except BaseException as exc:  # the parent reports it and fails the section
        where = traceback.format_exc(limit=-3).strip().replace("\n", " | ")
        results.put(({}, f"{type(exc).__name__}: {exc} ({where})"))
    finally:
        connections.close_all()


def _in_processes(target, shares: list) -> dict[str, int]:
    """Run target(*share) in one forked process per share, at once (as many Celery worker
    processes do), and add up the counts they return."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    connections.close_all()  # each child opens its own database connection
    children = [
        context.Process(
            target=_child, args=(target, share if isinstance(share, tuple) else (share,), results)
        )
        for share in shares
    ]
    for child in children:
        child.start()
    reports = [results.get(timeout=3600) for _ in children]
    for child in children:
        child.join()
    errors = [error for _, error in reports if error]
    if errors:
        raise RuntimeError(f"a worker process failed: {errors[0]}")
    total: dict[str, int] = {}
    for counts, _ in reports:
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    return total


def _poll_in_parallel(box: Mailbox, pollers: int) -> tuple[int, dict[str, int]]:
    """`pollers` processes poll the mailbox at once, each its share of the UIDs — as
    MAIL_POLL_WORKERS pollers do on as many Celery worker processes."""
    outcomes = _in_processes(_poll_share, [(box.pk, k, pollers) for k in range(pollers)])
    return outcomes.pop("polls", 0), outcomes


def mail_channel(admin, service, n_ingest: int, n_outbound: int, log, pollers: int = 0) -> dict:
    """Ingest n_ingest mails from Dovecot (messages/s end to end through mailbox_poll, with
    `pollers` poller processes: default one per core), then send n_outbound staff replies to
    an SMTP sink (seconds)."""
    pollers = pollers or os.cpu_count() or 1
    why = _servers_available()
    if why:
        raise RuntimeError(why)
    customer, _ = Customer.objects.get_or_create(name="Bench Mail Customer")
    customer_set_email_domains(customer=customer, domains=[DOMAIN])
    keys = _open_incidents(customer, service, admin, TARGETS)
    directory = tempfile.mkdtemp(prefix="tandem-bench-dovecot-")
    dovecot, sink = Dovecot(directory).start(), SmtpSink().start()
    try:
        run = time.strftime("%Y%m%d%H%M%S")  # a mailbox per run: --reuse runs again
        box = Mailbox.objects.create(
            name=f"Bench support {run}", address=f"bench-support-{run}@tandem.example",
            default_service=service, default_customer=customer, imap_url=dovecot.url,
        )  # fmt: skip
        raws, replies = _messages(n_ingest, keys)
        with Stopwatch() as appended:
            dovecot.append(*raws)
        log(f"  {n_ingest:,} mails appended to Dovecot in {appended.seconds:.1f} s ({replies:,} replies)")
        incidents_before = Incident.objects.count()
        with Stopwatch() as ingest:
            polls, outcomes = _poll_in_parallel(box, pollers)
        logged = InboundMessage.objects.filter(mailbox=box).count()
        opened = Incident.objects.count() - incidents_before
        per_second = round(logged / ingest.seconds, 1) if ingest.seconds else None
        log(
            f"  ingest: {logged:,} mails in {ingest.seconds:.1f} s = {per_second}/s, {pollers} pollers, "
            f"{polls} polls; "
            f"{outcomes}; {opened:,} incidents opened; {dovecot.unseen()} left unseen"
        )

        # Staff answer the incidents the mail opened (their requesters are the senders).
        targets = list(
            Incident.objects.filter(
                pk__in=InboundMessage.objects.filter(mailbox=box, outcome="incident").values("incident"),
                requester__isnull=False,
            ).order_by("pk")[:TARGETS]
        )
        if not targets:
            raise RuntimeError("the ingest opened no incident with a requester to reply to")
        first_reply = OutboundMail.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with Stopwatch() as commented:
            for i in range(n_outbound):
                incident_comment(
                    incident=targets[i % len(targets)], actor=admin, public=True,
                    body=f"Thanks, we are looking at it (update {i}).",
                )  # fmt: skip
        pending = list(
            OutboundMail.objects.filter(pk__gt=first_reply, kind=MailKind.REPLY, state=SendState.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        smtp = {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": sink.port, "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False,
            "EMAIL_HOST_USER": "", "EMAIL_HOST_PASSWORD": "", "EMAIL_TIMEOUT": 10,
        }  # fmt: skip
        with override_settings(**smtp), Stopwatch() as sending:
            results = _in_processes(_send_share, [pending[k::pollers] for k in range(pollers)])
            received = len(sink.wait_for(len(pending), timeout=60))
        log(
            f"  outbound: {len(pending):,} replies queued in {commented.seconds:.1f} s, sent in "
            f"{sending.seconds:.1f} s by {pollers} processes {results}; the sink received {received:,}"
        )
        return {
            "ingest_messages": n_ingest,
            "ingest_replies": replies,
            "ingest_logged": logged,
            "ingest_outcomes": outcomes,
            "ingest_incidents_opened": opened,
            "ingest_polls": polls,
            "ingest_pollers": pollers,
            "ingest_seconds": round(ingest.seconds, 2),
            "ingest_per_second": per_second,
            "append_seconds": round(appended.seconds, 2),
            "outbound_replies": n_outbound,
            "outbound_queued": len(pending),
            "outbound_queue_seconds": round(commented.seconds, 2),
            "outbound_results": results,
            "outbound_received": received,
            "outbound_seconds": round(sending.seconds, 2),
            "outbound_processes": pollers,
        }
    finally:
        sink.stop()
        dovecot.stop()
        shutil.rmtree(directory, ignore_errors=True)
