"""ITIL incidents and service requests, their conversation, time and history."""

import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class IncidentType(models.TextChoices):
    INCIDENT = "incident", "Incident"
    SERVICE_REQUEST = "service_request", "Service request"


KEY_PREFIX = {IncidentType.INCIDENT: "INC", IncidentType.SERVICE_REQUEST: "REQ"}


class Level(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Priority(models.TextChoices):
    P1 = "P1", "P1 – critical"
    P2 = "P2", "P2 – high"
    P3 = "P3", "P3 – moderate"
    P4 = "P4", "P4 – low"
    P5 = "P5", "P5 – planning"


class Status(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD)


class HoldReason(models.TextChoices):
    AWAITING_CUSTOMER = "awaiting_customer", "Awaiting customer"
    AWAITING_VENDOR = "awaiting_vendor", "Awaiting vendor"
    AWAITING_DEVELOPMENT = "awaiting_development", "Awaiting development"


class ResolutionCode(models.TextChoices):
    FIXED = "fixed", "Fixed"
    WORKAROUND = "workaround", "Workaround provided"
    DUPLICATE = "duplicate", "Duplicate"
    NOT_REPRODUCIBLE = "not_reproducible", "Not reproducible"
    USER_ERROR = "user_error", "User error"
    KNOWN_ERROR = "known_error", "Known error, documented fix"
    SERVICE_REQUEST_FULFILLED = "fulfilled", "Request fulfilled"


class IncidentManager(models.Manager["Incident"]):
    """Incidents without their search vector: the vector is written by SQL only
    (incidents.search), so a save() of a loaded incident never writes a stale one back, and
    lists do not carry it."""

    def get_queryset(self) -> models.QuerySet["Incident"]:
        return super().get_queryset().defer("search_vector")


class Incident(models.Model):
    key = models.CharField(max_length=20, unique=True, editable=False)
    type = models.CharField(max_length=20, choices=IncidentType.choices, default=IncidentType.INCIDENT)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # service, team and assignee have no index of their own: the (column, status) indexes
    # below lead with them and serve their lookups; each index costs every write of a row.
    service = models.ForeignKey(
        "org.Service", on_delete=models.PROTECT, related_name="incidents", db_index=False
    )
    customer = models.ForeignKey(
        "org.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.CharField(max_length=200, blank=True, help_text="Who at the customer to reply to.")
    requester = models.ForeignKey(
        "org.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="requested_incidents"
    )
    cc = models.ManyToManyField("org.Contact", blank=True, related_name="copied_incidents")

    impact = models.CharField(max_length=10, choices=Level.choices, default=Level.MEDIUM)
    urgency = models.CharField(max_length=10, choices=Level.choices, default=Level.MEDIUM)
    priority = models.CharField(max_length=2, choices=Priority.choices, default=Priority.P3)
    priority_override_reason = models.TextField(blank=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    hold_reason = models.CharField(max_length=30, choices=HoldReason.choices, blank=True)
    resolution_code = models.CharField(max_length=30, choices=ResolutionCode.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    cancel_reason = models.TextField(blank=True)

    team = models.ForeignKey("org.Team", on_delete=models.PROTECT, related_name="incidents", db_index=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="assigned_incidents",
    )
    tier = models.PositiveSmallIntegerField(default=1)
    is_major = models.BooleanField(default=False)
    major_declared_at = models.DateTimeField(null=True, blank=True)
    # Set by the notification task, so a task that runs twice mails the managers once.
    managers_notified_at = models.DateTimeField(null=True, blank=True)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="swarmed_incidents"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    caused_by_card = models.ForeignKey(
        "boards.Card", null=True, blank=True, on_delete=models.SET_NULL, related_name="caused_incidents"
    )
    caused_by_release = models.ForeignKey(
        "boards.Release", null=True, blank=True, on_delete=models.SET_NULL, related_name="caused_incidents"
    )

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # A customer's mail to an incident closed for good opens a new one that follows it.
    follows = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    # Optimistic concurrency: every write bumps it; a stale writer gets a 409.
    version = models.PositiveIntegerField(default=1)
    # Earliest due instant of the incident's still-counting SLA timers, kept by the SLA
    # service: the queue's default sort, served from an index at any size.
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The words search finds the incident by (key and title weighted A, description and
    # contact B, comments C), kept by the incident services through incidents.search. On
    # PostgreSQL only: its GIN index and the key's trigram index are made by the migration,
    # not declared here (SQLite, the embedded default, cannot build them); NULL on SQLite,
    # which searches with a simpler match.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = IncidentManager()

    class Meta:
        ordering = ["-created_at"]
        # Related access (comment.incident) defers the vector too.
        base_manager_name = "objects"
        indexes = [
            models.Index(fields=["status", "priority"]),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["service", "status"]),
            models.Index(fields=["sla_due_at", "priority", "created_at", "id"], name="incident_sla_urgency"),
            # A priority's newest first (the list filtered by priority, alone or with a team):
            # through incident_created PostgreSQL read 8,000 newer rows of other priorities
            # for a page of P1s at 1M (10-18 ms); this finds the page at once (0.3 ms).
            models.Index(fields=["priority", "created_at", "id"], name="incident_priority_created"),
            # Dashboards: incidents created / resolved in a period and the open backlog by age,
            # counted index-only with the filters they take.
            models.Index(
                fields=["created_at"],
                name="incident_created",
                include=["id", "resolved_at", "priority", "team", "service", "customer"],
            ),
            models.Index(
                fields=["resolved_at"],
                name="incident_resolved",
                include=["id", "tier", "priority", "team", "service", "customer"],
                condition=models.Q(resolved_at__isnull=False),
            ),
            models.Index(
                fields=["created_at"],
                name="incident_open_age",
                include=["id", "priority", "team", "service", "customer"],
                condition=models.Q(status__in=["new", "in_progress", "on_hold"]),
            ),
        ]

    def __str__(self):
        return f"{self.key} {self.title}"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES


class CommentVia(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    EMAIL = "email", "E-mail"


class Delivery(models.TextChoices):
    PENDING = "pending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Comment(models.Model):
    """A public reply to the customer, an internal work note, or a system note."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    body = models.TextField()
    public = models.BooleanField(default=False)
    is_system = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    # The customer channel (SPEC §13): how the comment came in, the contact who wrote it (a
    # customer's e-mail), and for a public reply the state of the mail that carries it,
    # kept by the mail app through incidents.services.comment_set_delivery.
    via = models.CharField(max_length=10, choices=CommentVia.choices, default=CommentVia.WEB)
    contact = models.ForeignKey(
        "org.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    delivery = models.CharField(max_length=10, choices=Delivery.choices, blank=True)
    delivery_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["incident", "created_at"])]

    def __str__(self):
        return f"{'Reply' if self.public else 'Note'} on {self.incident_id}"


def attachment_path(attachment, filename):
    # A fresh directory per file: names never collide and never choose a path.
    return f"attachments/{attachment.incident_id}/{uuid.uuid4().hex}/{filename}"


class Attachment(models.Model):
    """A file on an incident, optionally on one of its comments (incidents.attachments)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=400)
    name = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        "org.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["incident", "created_at"])]

    def __str__(self):
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type in PREVIEW_TYPES


# Images shown inline (never SVG: it can carry script).
PREVIEW_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


class TimeEntry(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="time_entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries")
    minutes = models.PositiveIntegerField()
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "time entries"

    def __str__(self):
        return f"{self.minutes} min on {self.incident_id}"


class IncidentEvent(models.Model):
    """Append-only history: every field change and every action, in the same transaction."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    event = models.CharField(max_length=40)  # "created", "field_changed", "escalated", "replied", ...
    field = models.CharField(max_length=40, blank=True)
    old = models.TextField(blank=True)
    new = models.TextField(blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at"])]

    def __str__(self):
        return f"{self.incident_id} {self.event} {self.field}"
