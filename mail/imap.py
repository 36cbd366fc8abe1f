"""Polling a mailbox over IMAP with imap-tools: fetch unseen messages a chunk at a time,
process each in its own transaction, and only then flag the chunk \\Seen on the server."""

import email
import logging
from functools import cached_property
from urllib.parse import unquote, urlsplit

from django.utils import timezone
from imap_tools import AND, MailBox, MailBoxUnencrypted, MailMessage, MailMessageFlags

from .inbound import inbound_process_many
from .models import Mailbox
from .outbound import own_addresses

logger = logging.getLogger(__name__)
BATCH = 200
CHUNK = 50


class FetchedMessage(MailMessage):
    """A fetched message kept as the bytes the server sent. imap-tools' MailMessage parses
    every message it yields (and as_bytes() would generate it anew); the poller parses the
    original once itself (mail.inbound.parse), so this parses only if someone asks."""

    def __init__(self, fetch_data: list) -> None:
        self.raw, self._raw_uid_data, self._raw_flag_data = self._get_message_data_parts(fetch_data)

    @cached_property
    def obj(self):  # type: ignore[override]
        return email.message_from_bytes(self.raw)


def connect(imap_url: str, folder: str):
    """An open, logged-in imap-tools mailbox for imap://user:password@host:port (or imaps://)."""
    parts = urlsplit(imap_url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ValueError("The IMAP address must look like imap://user:password@host:port or imaps://…")
    secure = parts.scheme == "imaps"
    port = parts.port or (993 if secure else 143)
    client_class = MailBox if secure else MailBoxUnencrypted
    client = client_class(parts.hostname, port=port, timeout=30)
    client.email_message_class = FetchedMessage
    return client.login(unquote(parts.username or ""), unquote(parts.password or ""), initial_folder=folder)


def mailbox_poll(*, mailbox: Mailbox, limit: int = BATCH, shard: tuple[int, int] = (0, 1)) -> dict:
    """Fetch up to `limit` unseen messages and process them. Returns counts per outcome.

    `shard` (k, n): take only the messages whose UID is k modulo n, so n pollers share one
    busy mailbox without fetching each other's mail (MAIL_POLL_WORKERS). Two pollers that
    do meet on a message still process it once (mail.inbound)."""
    part, parts = shard
    counts: dict[str, int] = {}
    own = own_addresses()  # read once: every message is checked against them
    try:
        with connect(mailbox.imap_url, mailbox.folder) as client:
            validity = client.folder.status(mailbox.folder, ["UIDVALIDITY"]).get("UIDVALIDITY", 0)
            uids = [uid for uid in client.uids(AND(seen=False)) if int(uid) % parts == part][:limit]
            for start in range(0, len(uids), CHUNK):
                chunk = uids[start : start + CHUNK]
                fetched = {}
                for message in client.fetch(uid_list=chunk, mark_seen=False, bulk=True):
                    if message.uid not in chunk:
                        # Not a message we asked for: an unsolicited FETCH the server sends
                        # when another session (another poller) flags one \Seen. It has no
                        # UID and no content; a message of ours left out comes next poll.
                        continue
                    fetched[message.uid] = message.raw
                rows = inbound_process_many(
                    mailbox=mailbox,
                    fetched=[(f"{validity}:{uid}", raw) for uid, raw in fetched.items()],
                    own=own,
                )
                # Committed, every one: now the server may forget them (one STORE for the
                # chunk). A crash before this re-fetches them and finds their rows.
                client.flag(list(fetched), MailMessageFlags.SEEN, True)
                for row in rows:
                    counts[row.outcome] = counts.get(row.outcome, 0) + 1
    except Exception as exc:
        Mailbox.objects.filter(pk=mailbox.pk).update(last_error=f"{type(exc).__name__}: {exc}"[:2000])
        logger.warning("polling %s failed: %s", mailbox.address, exc)
        raise
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error="")
    return counts
