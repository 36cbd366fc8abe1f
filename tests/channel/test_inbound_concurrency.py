"""Exactly once under concurrency (SPEC §13): two pollers read the same mailbox at the same
moment, and every Message-ID is there twice. Each IMAP message is logged once, each
Message-ID opens one incident, the copies are duplicates, and nothing is left unseen."""

import pytest

from incidents.models import Comment, Incident
from mail.imap import mailbox_poll
from mail.models import InboundMessage, Mailbox
from tests.threads import at_once

from .test_inbound import mail

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_pollers_and_every_message_twice(org, contact, imap_mailbox, dovecot):
    messages = [mail(subject=f"Problem {i}", message_id=f"<p{i}@northwind.example>") for i in range(15)]
    dovecot.append(*messages, *messages)
    box = Mailbox.objects.get(pk=imap_mailbox.pk)
    outcomes = at_once(lambda: mailbox_poll(mailbox=box), lambda: mailbox_poll(mailbox=box))
    assert outcomes == ["ok", "ok"]
    assert Incident.objects.count() == 15
    assert sorted(Incident.objects.values_list("title", flat=True)) == sorted(
        f"Problem {i}" for i in range(15)
    )
    rows = InboundMessage.objects.all()
    assert rows.count() == 30  # one row per IMAP message, whichever poller got it
    assert rows.filter(outcome="incident").count() == 15 and rows.filter(outcome="duplicate").count() == 15
    assert not Comment.objects.filter(via="email").exists()
    assert dovecot.unseen() == 0
    # Polling again changes nothing.
    assert mailbox_poll(mailbox=box) == {}
    assert InboundMessage.objects.count() == 30


def test_sharded_pollers_split_the_mailbox_and_the_task_fans_out(
    org, contact, imap_mailbox, dovecot, settings, monkeypatch
):
    """MAIL_POLL_WORKERS=2: each poller takes the UIDs of its residue only; together they
    take everything once, and the beat task publishes one share task per part."""
    dovecot.append(*[mail(subject=f"Shard {i}", message_id=f"<s{i}@northwind.example>") for i in range(9)])
    box = Mailbox.objects.get(pk=imap_mailbox.pk)
    first = mailbox_poll(mailbox=box, shard=(0, 2))
    assert dovecot.unseen() == 9 - first["incident"] and 0 < first["incident"] < 9
    keys = set(InboundMessage.objects.values_list("imap_key", flat=True))
    assert all(int(k.rpartition(":")[2]) % 2 == 0 for k in keys)
    assert mailbox_poll(mailbox=box, shard=(1, 2)) == {"incident": 9 - first["incident"]}
    assert dovecot.unseen() == 0 and Incident.objects.count() == 9

    from mail import tasks

    published = []
    monkeypatch.setattr(tasks, "enqueue", lambda task, *args: published.append((task.name, args)))
    settings.MAIL_POLL_WORKERS = 2
    assert tasks.mail_poll.run() == 1
    assert published == [
        ("mail.tasks.mail_poll_shard", (box.pk, 0, 2)),
        ("mail.tasks.mail_poll_shard", (box.pk, 1, 2)),
    ]
    assert tasks.mail_poll_shard.run(box.pk, 1, 2) == 0  # nothing left: a second run is harmless
