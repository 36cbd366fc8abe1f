"""ITIL requests for change (RFCs) and the product owner's triage decisions."""

from typing import Any

from django.conf import settings
from django.db import models


class Source(models.TextChoices):
    SUPPORT = "support", "Support"
    SALES = "sales", "Sales"
    CUSTOMER = "customer", "Customer"
    ENGINEERING = "engineering", "Engineering"


class Kind(models.TextChoices):
    STANDARD = "standard", "Standard (pre-approved)"
    NORMAL = "normal", "Normal"
    EMERGENCY = "emergency", "Emergency"


class ChangeStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    UNDER_REVIEW = "under_review", "Under review"
    ACCEPTED = "accepted", "Accepted"
    SCHEDULED = "scheduled", "Scheduled"
    REJECTED = "rejected", "Rejected"
    DEFERRED = "deferred", "Deferred"
    IMPLEMENTED = "implemented", "Implemented"


# Requests still waiting for the product owner's decision.
TRIAGE_STATUSES = (ChangeStatus.SUBMITTED, ChangeStatus.UNDER_REVIEW, ChangeStatus.DEFERRED)


class Decision(models.TextChoices):
    ACCEPT = "accept", "Accept into the backlog"
    SCHEDULE = "schedule", "Schedule into a sprint"
    REJECT = "reject", "Reject"
    DEFER = "defer", "Defer"


class ChangeRequest(models.Model):
    key = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SUPPORT)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NORMAL)
    justification = models.TextField(blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="change_requests"
    )
    team = models.ForeignKey(
        "org.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_requests",
        help_text="The development team asked to make the change.",
    )
    status = models.CharField(max_length=20, choices=ChangeStatus.choices, default=ChangeStatus.SUBMITTED)
    incidents = models.ManyToManyField("incidents.Incident", blank=True, related_name="change_requests")
    card = models.ForeignKey(
        "boards.Card", null=True, blank=True, on_delete=models.SET_NULL, related_name="change_requests"
    )
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Emergency changes: who approved going straight into the active sprint.",
    )
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Not stored: set by `change_request_triage` on the request it returns, the escalation
    # preview's numbers when an emergency entered a sprint (None otherwise).
    sprint_impact: dict[str, Any] | None = None

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.key} {self.title}"


class ChangeEvent(models.Model):
    """Append-only history of a change request: submitted, decisions, card links."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    event = models.CharField(max_length=30)
    old = models.CharField(max_length=30, blank=True)
    new = models.CharField(max_length=30, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.change_id} {self.event}"
