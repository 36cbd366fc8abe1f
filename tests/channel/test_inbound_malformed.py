"""Malformed mail never crashes the poller: each message is processed or logged as failed
with its reason, and the next one is read."""

import pytest

from incidents.models import Incident
from mail.imap import mailbox_poll
from mail.models import InboundMessage

pytestmark = pytest.mark.django_db

FROM = b"From: Ana Lopez <ana@northwind.example>\r\nTo: support@tandem.example\r\n"
CASES = {
    "unknown charset": FROM + b"Subject: Charset\r\nMessage-ID: <c1@n.example>\r\n"
    b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nCaf\xe9 ferm\xe9\r\n",
    "no message-id": FROM + b"Subject: No id\r\n\r\nHello without an id\r\n",
    "no subject": FROM + b"Message-ID: <c3@n.example>\r\n\r\nHello without a subject\r\n",
    "broken mime": FROM + b"Subject: Broken\r\nMessage-ID: <c4@n.example>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n--never-closed\r\n'
    b"Content-Type: text/plain\r\n\r\nBody before a missing end\r\n",
    "garbage headers": b"\xff\xfe\x00garbage\r\n\r\n\x00\x01\x02",
}


def test_each_malformed_message_is_processed_or_failed_with_a_reason(org, contact, imap_mailbox, dovecot):
    dovecot.append(*CASES.values())
    counts = mailbox_poll(mailbox=imap_mailbox)
    assert sum(counts.values()) == len(CASES) and dovecot.unseen() == 0
    rows = {r.subject: r for r in InboundMessage.objects.all()}
    assert rows["Charset"].outcome == "incident"
    assert "Caf" in Incident.objects.get(title="Charset").description
    no_id = rows["No id"]
    assert no_id.outcome == "incident" and no_id.message_id.startswith("<no-id.")
    assert Incident.objects.filter(title="(no subject)").exists()
    assert rows["Broken"].outcome == "incident"
    garbage = next(r for r in InboundMessage.objects.all() if r.subject not in rows or r.subject == "")
    assert garbage.outcome in ("failed", "ignored_auto") and garbage.error
    # A second copy of the message without an id is recognised by its content.
    dovecot.append(CASES["no message-id"])
    assert mailbox_poll(mailbox=imap_mailbox) == {"duplicate": 1}
