"""The customer channel under faults (issue 16), through a real Dovecot and the real poller:
the same mail twice under two pollers at once, a worker SIGKILLed mid-poll, PostgreSQL
stopped during a poll, and a mail-loop drill. Malformed mail is covered by
tests/channel/test_inbound_malformed.py (the normal suite)."""

import json
import os
import time
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid

import psycopg2
import pytest
from django.db import connection
from django.db.models import Count

from incidents.models import Comment, Incident
from mail.imap import mailbox_poll
from mail.models import InboundMessage, Mailbox, OutboundMail
from tests.channel.conftest import contact, dovecot, eager_tasks, imap_mailbox, smtp_sink  # noqa: F401
from tests.channel.test_inbound import mail
from tests.incidents.conftest import log_incident, org, role_groups, sla_policies  # noqa: F401
from tests.threads import at_once

from .helpers import Worker, database_url, record
from .test_battery_postgres_restart import TempPostgres, _manage


def _drain(mailbox):
    """Poll until a poll finds nothing unseen; the outcome counts of every poll, summed."""
    total: dict[str, int] = {}
    while counts := mailbox_poll(mailbox=mailbox):
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    return total


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# ------------------------------------------------------------------ the same mail twice
N_TWICE, N_REPLIES, N_OPEN = 500, 200, 20


@pytest.mark.battery
@pytest.mark.django_db(transaction=True)
def test_the_same_500_messages_twice_under_two_pollers(
    org, contact, imap_mailbox, dovecot, log_incident,  # noqa: F811
):  # fmt: skip
    open_ = [log_incident(customer=org.customer, requester=contact) for _ in range(N_OPEN)]
    incidents_before = Incident.objects.count()
    new = [mail(subject=f"Problem {i}", message_id=f"<twice-{i}@northwind.example>") for i in range(300)]
    replies = [
        mail(
            subject=f"Re: [{open_[i % N_OPEN].key}] Checkout returns 502",
            body=f"More detail {i}.",
            message_id=f"<twice-reply-{i}@northwind.example>",
        )
        for i in range(N_REPLIES)
    ]
    batch = new + replies
    assert len(batch) == N_TWICE
    dovecot.append(*batch, *batch)
    box = Mailbox.objects.get(pk=imap_mailbox.pk)
    started = time.monotonic()
    outcomes = at_once(lambda: _drain(box), lambda: _drain(box))
    seconds = time.monotonic() - started

    rows = InboundMessage.objects.filter(mailbox=box)
    by_outcome = dict(rows.values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n"))
    processed = rows.filter(outcome__in=["incident", "comment"])
    processed_ids = processed.values("message_id").distinct().count()
    doubled_ids = processed.values("message_id").annotate(n=Count("id")).filter(n__gt=1).count()
    new_incidents = Incident.objects.count() - incidents_before
    email_comments = Comment.objects.filter(via="email")
    doubled_comments = (
        email_comments.values("incident_id", "body").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    doubled_titles = (
        Incident.objects.filter(title__startswith="Problem ")
        .values("title")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    unseen = dovecot.unseen()
    lost = N_TWICE - processed_ids
    record(
        "same 500 mails appended twice, two pollers at once",
        faults=["every message delivered twice", "two concurrent IMAP pollers"],
        checked=N_TWICE,
        lost=lost,
        notes=f"{rows.count()} IMAP messages logged in {seconds:.1f} s: {by_outcome}; "
        f"{new_incidents} incidents opened, {email_comments.count()} comments; doubled: "
        f"{doubled_ids} Message-IDs, {doubled_titles} incidents, {doubled_comments} comments; "
        f"{unseen} left unseen",
    )
    assert outcomes == ["ok", "ok"]
    assert rows.count() == 2 * N_TWICE
    assert lost == 0 and doubled_ids == 0
    assert by_outcome == {"incident": 300, "comment": N_REPLIES, "duplicate": N_TWICE}
    assert new_incidents == 300 and doubled_titles == 0
    assert email_comments.count() == N_REPLIES and doubled_comments == 0
    assert unseen == 0
    assert mailbox_poll(mailbox=box) == {}


# ------------------------------------------------------------------ worker SIGKILLed mid-poll
N_KILL = 400


@pytest.mark.battery
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_poll_processes_every_message_once(
    org, contact, imap_mailbox, dovecot, spare_redis,  # noqa: F811
):  # fmt: skip
    dovecot.append(
        *(mail(subject=f"Killed {i}", message_id=f"<kill-{i}@northwind.example>") for i in range(N_KILL))
    )
    rows = InboundMessage.objects.filter(mailbox=imap_mailbox)
    db_url = database_url(connection.settings_dict)
    env = {"MAIL_POLL_SECONDS": "1"}
    victim = Worker(
        broker_url=spare_redis.url, db_url=db_url, name="mail-victim", concurrency=1, extra_env=env
    ).start()
    try:
        _wait(lambda: rows.count() >= 30, 90, "the first poll to commit messages")
        victim.kill()  # SIGKILL: main process, pool child and beat, mid-poll
    finally:
        victim.stop()
    at_kill = rows.count()
    unseen_at_kill = dovecot.unseen()
    # Committed by the dead poller but never flagged \Seen: the next poll must not redo them.
    committed_unflagged = at_kill - (N_KILL - unseen_at_kill)

    survivor = Worker(
        broker_url=spare_redis.url, db_url=db_url, name="mail-survivor", concurrency=1, extra_env=env
    ).start()
    try:
        _wait(lambda: dovecot.unseen() == 0 and rows.count() >= N_KILL, 240, "every message processed")
    finally:
        survivor.stop()

    processed = rows.filter(outcome="incident")
    processed_ids = processed.values("message_id").distinct().count()
    doubled = rows.values("message_id").annotate(n=Count("id")).filter(n__gt=1).count()
    incidents = Incident.objects.filter(title__startswith="Killed ")
    doubled_incidents = incidents.values("title").annotate(n=Count("id")).filter(n__gt=1).count()
    failed = rows.filter(outcome="failed").count()
    lost = N_KILL - processed_ids
    record(
        "worker SIGKILLed mid-poll",
        faults=["celery worker SIGKILL (whole process group) during an IMAP poll"],
        checked=N_KILL,
        lost=lost,
        notes=f"{at_kill} messages committed before the kill, {committed_unflagged} of them not yet "
        f"flagged \\Seen; after a new worker: {rows.count()} logged, {incidents.count()} incidents, "
        f"{doubled} doubled Message-IDs, {doubled_incidents} doubled incidents, {failed} failed",
    )
    assert 0 < at_kill < N_KILL  # killed part-way through
    assert lost == 0 and failed == 0
    assert rows.count() == N_KILL and doubled == 0
    assert incidents.count() == N_KILL and doubled_incidents == 0


# ------------------------------------------------------------------ PostgreSQL stopped mid-poll
N_PG = 400
SEED = """
from django.contrib.auth.models import Group
from accounts.roles import Role
from mail.models import Mailbox
from org.models import Customer, Service, Team
from sla.models import BusinessCalendar, SLAPolicy
for name in Role.values:
    Group.objects.get_or_create(name=name)
team = Team.objects.create(name="Desk", tier=1)
service = Service.objects.create(name="Payments", support_team=team)
cal = BusinessCalendar.objects.create(name="24x7", timezone="UTC", always_open=True, hours={})
for p in ("P1", "P2", "P3", "P4", "P5"):
    SLAPolicy.objects.create(name=p, priority=p, response_minutes=60, resolution_minutes=240, calendar=cal)
customer = Customer.objects.create(name="Northwind", email_domains=["northwind.example"])
Mailbox.objects.create(name="Support", address="support@tandem.example", default_service=service,
                       default_customer=customer, imap_url=IMAP_URL)
print("SEEDED")
"""


def _counts(url):
    with psycopg2.connect(url, connect_timeout=3) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT message_id), "
            "count(*) FILTER (WHERE outcome = 'incident'), count(*) FILTER (WHERE outcome = 'failed') "
            "FROM mail_inboundmessage"
        )
        logged, distinct_ids, opened, failed = cur.fetchone()
        cur.execute(
            "SELECT count(*), count(DISTINCT title) FROM incidents_incident WHERE title LIKE 'Outage %%'"
        )
        incidents, distinct_titles = cur.fetchone()
    conn.close()
    return {
        "logged": logged, "distinct_ids": distinct_ids, "opened": opened, "failed": failed,
        "incidents": incidents, "distinct_titles": distinct_titles,
    }  # fmt: skip


def _logged_or_none(url):
    try:
        return _counts(url)["logged"]
    except psycopg2.Error:
        return None


@pytest.mark.battery
@pytest.mark.celery_worker
def test_postgres_stopped_during_a_poll_loses_no_mail_and_doubles_none(dovecot, spare_redis):  # noqa: F811
    pg = TempPostgres()
    worker = None
    try:
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="tracker.settings.test", DATABASE_URL=pg.url)
        _manage(env, "migrate", "--no-input", "-v", "0")
        seed = SEED.replace("IMAP_URL", json.dumps(dovecot.url))
        assert "SEEDED" in _manage(env, "shell", stdin=seed)
        dovecot.append(
            *(mail(subject=f"Outage {i}", message_id=f"<pg-{i}@northwind.example>") for i in range(N_PG))
        )
        worker = Worker(
            broker_url=spare_redis.url, db_url=pg.url, name="mail-pg", concurrency=1,
            extra_env={"MAIL_POLL_SECONDS": "1"},
        ).start()  # fmt: skip
        _wait(lambda: (_logged_or_none(pg.url) or 0) >= 30, 90, "the first poll to commit messages")
        pg.stop("fast")  # the poller's connection is cut mid-poll
        unseen_during = dovecot.unseen()
        time.sleep(4)
        pg.start()
        at_restart = _counts(pg.url)["logged"]
        _wait(
            lambda: dovecot.unseen() == 0 and (_logged_or_none(pg.url) or 0) >= N_PG,
            240,
            "every message processed after the restart",
        )
        worker_survived = worker.proc.poll() is None  # the same worker, never restarted
        worker.stop()
        after = _counts(pg.url)
    finally:
        if worker is not None:
            worker.stop()
        pg.destroy()

    lost = N_PG - after["distinct_ids"] + after["failed"]
    record(
        "postgresql stopped during a poll",
        faults=["postgresql stop (fast) during an IMAP poll", "postgresql start"],
        checked=N_PG,
        lost=lost,
        notes=f"{at_restart} messages committed before the stop ({N_PG - unseen_during} flagged "
        f"\\Seen); after recovery {after['logged']} logged, {after['opened']} incidents opened, "
        f"{after['logged'] - after['distinct_ids']} doubled Message-IDs, "
        f"{after['incidents'] - after['distinct_titles']} doubled incidents, {after['failed']} failed; "
        f"same worker throughout: {worker_survived}",
    )
    assert 0 < at_restart < N_PG  # stopped part-way through
    assert worker_survived
    assert lost == 0
    assert after["logged"] == after["distinct_ids"] == after["opened"] == N_PG
    assert after["incidents"] == after["distinct_titles"] == N_PG


# ------------------------------------------------------------------ mail-loop drill
def _report(sender, subject="Undelivered Mail Returned to Sender"):
    msg = MIMEMultipart("report", report_type="delivery-status")
    msg["From"] = sender
    msg["To"] = "support@tandem.example"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="mx.northwind.example")
    msg.attach(MIMEText("delivery to ana@northwind.example failed"))
    return msg.as_bytes()


AUTO_HEADERS = [
    {"Auto-Submitted": "auto-replied"},
    {"Auto-Submitted": "auto-generated"},
    {"Precedence": "auto_reply"},
    {"Precedence": "bulk"},
    {"X-Autoreply": "yes"},
    {"X-Autorespond": "Out of office"},
    {"X-Auto-Response-Suppress": "All"},
]


def _loop_mails(keys):
    """100 mails that must never open or answer anything: auto-replies, bounces and mail from
    our own address, half of them threaded to an open incident by the key in the subject."""
    out, kinds = [], []
    for i in range(100):
        subject = f"Re: [{keys[i % len(keys)]}] Checkout returns 502" if i % 2 else "Automatic reply"
        kind = i % 3
        if kind == 0:
            headers = AUTO_HEADERS[i % len(AUTO_HEADERS)]
            if "X-Auto-Response-Suppress" in headers:  # Outlook sets it on people's mail too
                subject = f"Automatic reply: {subject}"
            out.append(mail(subject=subject, headers=headers))
        elif kind == 1:
            sender = ["MAILER-DAEMON@mx.northwind.example", "bounces@mx.northwind.example"][i % 2]
            out.append(
                _report(sender, subject)
                if i % 4 != 1
                else mail(sender="postmaster@mx.northwind.example", subject=subject)
            )
        else:
            out.append(mail(sender="Tandem Support <support@tandem.example>", subject=subject))
        kinds.append(("auto-reply", "bounce", "own address")[kind])
    return out, kinds


@pytest.mark.django_db
def test_mail_loop_drill_opens_nothing_and_sends_nothing(
    org, contact, imap_mailbox, dovecot, smtp_sink, eager_tasks, log_incident,  # noqa: F811
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        open_ = [log_incident(customer=org.customer, requester=contact) for _ in range(5)]
    smtp_sink.wait_for(len(open_))  # their acknowledgements; the drill counts from here
    smtp_sink.clear()
    incidents_before, outbound_before = Incident.objects.count(), OutboundMail.objects.count()
    comments_before = Comment.objects.count()
    statuses = {i.pk: i.status for i in Incident.objects.filter(pk__in=[i.pk for i in open_])}
    raws, kinds = _loop_mails([i.key for i in open_])
    dovecot.append(*raws)
    with django_capture_on_commit_callbacks(execute=True):
        counts = _drain(imap_mailbox)
    time.sleep(1)  # anything sent would have reached the sink by now
    incidents = Incident.objects.count() - incidents_before
    outbound = OutboundMail.objects.count() - outbound_before
    comments = Comment.objects.count() - comments_before
    sent = len(smtp_sink.messages)
    ignored = InboundMessage.objects.filter(outcome="ignored_auto").count()
    by_kind = {k: kinds.count(k) for k in sorted(set(kinds))}
    record(
        "mail-loop drill (auto-replies, bounces, our own address)",
        faults=["automatic mail that could start a loop"],
        checked=len(raws),
        lost=len(raws) - ignored,
        notes=f"{by_kind}: {ignored} ignored as automatic; {incidents} incidents, {comments} comments, "
        f"{outbound} outbound mails queued, {sent} mails sent",
    )
    assert len(raws) == 100
    assert counts == {"ignored_auto": 100} and ignored == 100
    assert incidents == 0 and comments == 0
    assert outbound == 0 and sent == 0
    assert {i.pk: i.status for i in Incident.objects.filter(pk__in=statuses)} == statuses
