"""ITIL problems: the underlying cause behind one or more incidents, and known errors.

A problem groups the incidents of one cause (an incident belongs to at most one problem);
a problem with a workaround is a known error. Its history is its own (ProblemEvent); the
incidents' histories note the link, written by the incidents app's history module.
"""

from django.conf import settings
from django.db import models


class ProblemStatus(models.TextChoices):
    NEW = "new", "New"
    INVESTIGATING = "investigating", "Investigating"
    KNOWN_ERROR = "known_error", "Known error"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


# Problems still being worked: they take new incidents and are offered as known errors.
OPEN_PROBLEM_STATUSES = (ProblemStatus.NEW, ProblemStatus.INVESTIGATING, ProblemStatus.KNOWN_ERROR)


class Problem(models.Model):
    key = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=ProblemStatus.choices, default=ProblemStatus.NEW)
    service = models.ForeignKey(
        "org.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
        help_text="The affected service: new incidents on it are offered this known error.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_problems",
        help_text="The problem manager who drives the investigation.",
    )
    root_cause = models.TextField(blank=True)
    workaround = models.TextField(
        blank=True, help_text="How support gets a customer going meanwhile; with one, this is a known error."
    )
    incidents = models.ManyToManyField(  # type: ignore[var-annotated]  # named by string: a lower app
        "incidents.Incident", through="ProblemIncident", related_name="problems", blank=True
    )
    card = models.ForeignKey(
        "boards.Card",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problems",
        help_text="The defect card development works for every incident of the problem.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    known_error_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Optimistic concurrency, as on incidents: every write bumps it; a stale writer gets a 409.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["service", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PROBLEM_STATUSES

    @property
    def is_known_error(self) -> bool:
        return self.is_open and bool(self.workaround.strip())


class ProblemIncident(models.Model):
    """An incident grouped under a problem. One problem per incident (the OneToOne)."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="incident_links")
    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, related_name="problem_link"
    )
    linked_at = models.DateTimeField()
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["linked_at", "id"]
        indexes = [models.Index(fields=["problem", "linked_at"])]

    def __str__(self) -> str:
        return f"{self.problem_id} ← {self.incident_id}"


class ProblemEvent(models.Model):
    """Append-only history of a problem: created, field changes, links, escalation, back-sync."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    event = models.CharField(max_length=40)
    field = models.CharField(max_length=40, blank=True)
    old = models.TextField(blank=True)
    new = models.TextField(blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["problem", "at"])]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.event} {self.field}"
