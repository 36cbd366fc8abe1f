"""Polling a mailbox over IMAP with imap-tools: fetch unseen messages, process each in its
own transaction, and only then flag it \\Seen on the server."""

import logging
from urllib.parse import unquote, urlsplit

from django.utils import timezone
from imap_tools import AND, MailBox, MailBoxUnencrypted, MailMessageFlags

from .inbound import inbound_process
from .models import Mailbox
from .outbound import own_addresses

logger = logging.getLogger(__name__)
BATCH = 200


def connect(imap_url: str, folder: str):
    """An open, logged-in imap-tools mailbox for imap://user:password@host:port (or imaps://)."""
    parts = urlsplit(imap_url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ValueError("The IMAP address must look like imap://user:password@host:port or imaps://…")
    secure = parts.scheme == "imaps"
    port = parts.port or (993 if secure else 143)
    client_class = MailBox if secure else MailBoxUnencrypted
    client = client_class(parts.hostname, port=port, timeout=30)
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
            for start in range(0, len(uids), 50):
                chunk = uids[start : start + 50]
                for message in client.fetch(AND(uid=chunk), mark_seen=False, bulk=True):
                    if message.uid not in chunk:
                        # Not a message we asked for: an unsolicited FETCH the server sends
                        # when another session (another poller) flags one \Seen. It has no
                        # UID and no content; a message of ours left out comes next poll.
                        continue
                    row = inbound_process(
                        mailbox=mailbox,
                        imap_key=f"{validity}:{message.uid}",
                        raw=message.obj.as_bytes(),
                        own=own,
                    )
                    # Committed: now the server may forget it.
                    client.flag(message.uid, MailMessageFlags.SEEN, True)
                    counts[row.outcome] = counts.get(row.outcome, 0) + 1
    except Exception as exc:
        Mailbox.objects.filter(pk=mailbox.pk).update(last_error=f"{type(exc).__name__}: {exc}"[:2000])
        logger.warning("polling %s failed: %s", mailbox.address, exc)
        raise
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error="")
    return counts
