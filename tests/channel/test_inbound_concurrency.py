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
