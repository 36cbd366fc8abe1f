"""Mailboxes Tandem reads and sends from, every mail it sends, and every mail it receives."""

from urllib.parse import urlsplit, urlunsplit

from django.db import models


class Mailbox(models.Model):
    """A support address: polled over IMAP for customers' mail, and the From/Reply-To of the
    mail Tandem sends about incidents of its default service (or that came in through it)."""

    name = models.CharField(max_length=100, unique=True)
    address = models.EmailField(unique=True, help_text="The support address, e.g. support@tandem.example.")
    # imap://user:password@host:port or imaps://…; the password is never shown again.
    imap_url = models.CharField(max_length=500, blank=True)
    folder = models.CharField(max_length=200, default="INBOX")
    default_service = models.ForeignKey(
        "org.Service", on_delete=models.PROTECT, related_name="mailboxes",
        help_text="New mail opens an incident on this service.",
    )  # fmt: skip
    default_customer = models.ForeignKey(
        "org.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Mail from senders no customer knows (no contact, no domain) opens an incident for "
        "this customer; without one such mail is logged as failed for a person to look at.",
    )
    acknowledge = models.BooleanField(
        default=True, help_text="Send the requester an acknowledgement when an incident is opened."
    )
    active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"

    def __str__(self):
        return f"{self.name} <{self.address}>"

    @property
    def imap_url_public(self) -> str:
        """The IMAP address without its password."""
        return public_url(self.imap_url)


def public_url(url: str) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = (
        (f"{parts.username}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
    )
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class MailKind(models.TextChoices):
    ACKNOWLEDGEMENT = "ack", "Acknowledgement"
    REPLY = "reply", "Reply"
    RESOLUTION = "resolution", "Resolution"


class SendState(models.TextChoices):
    PENDING = "pending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutboundMail(models.Model):
    """One mail Tandem sends about an incident. Its Message-ID threads the customer's answer."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="+")
    comment = models.OneToOneField(
        "incidents.Comment", null=True, blank=True, on_delete=models.CASCADE, related_name="outbound_mail"
    )
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=12, choices=MailKind.choices)
    message_id = models.CharField(max_length=250, unique=True)
    from_address = models.CharField(max_length=254)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    in_reply_to = models.CharField(max_length=250, blank=True)
    references = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=SendState.choices, default=SendState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["incident", "created_at"]),
            models.Index(fields=["state", "created_at"], name="outbound_pending",
                         condition=models.Q(state="pending")),
            # /metrics counts the mails that gave up on every scrape.
            models.Index(fields=["created_at"], name="outbound_failed", condition=models.Q(state="failed")),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.get_kind_display()} {self.message_id}"


class Outcome(models.TextChoices):
    PROCESSING = "processing", "Processing"
    INCIDENT = "incident", "Opened an incident"
    COMMENT = "comment", "Added to an incident"
    IGNORED_AUTO = "ignored_auto", "Automatic mail, ignored"
    DUPLICATE = "duplicate", "Duplicate, ignored"
    FAILED = "failed", "Failed"


class InboundMessage(models.Model):
    """The mail log: one row per message fetched from a mailbox, with what became of it.

    Exactly once: a message is one row per IMAP message (mailbox, imap_key) and, except for
    duplicates, one row per Message-ID in its mailbox; both are unique in the database and the
    row is written in the same transaction as the comment or incident it makes. The IMAP
    \\Seen flag is set only after that commit, so a crash in between re-reads the message and
    finds its row."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="messages")
    imap_key = models.CharField(max_length=60, help_text="UIDVALIDITY:UID in the mailbox's folder.")
    message_id = models.CharField(max_length=998)
    from_address = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.PROCESSING)
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.ForeignKey(
        "incidents.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mail"
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    raw = models.BinaryField(help_text="The message as received (the original).")
    html = models.TextField(blank=True, help_text="The HTML part, sanitised with nh3.")

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "imap_key"], name="inbound_once_per_imap_message"),
            models.UniqueConstraint(
                fields=["mailbox", "message_id"],
                condition=~models.Q(outcome="duplicate"),
                name="inbound_once_per_message_id",
            ),
        ]
        indexes = [
            models.Index(fields=["message_id"]),
            models.Index(fields=["outcome", "received_at"]),
        ]

    def __str__(self):
        return f"{self.message_id} ({self.outcome})"
