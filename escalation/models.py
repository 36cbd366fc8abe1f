"""The hand-over between support and development: one row per escalation of an incident
to a development card, kept after the fix flows back (for lead-time reporting)."""

from django.conf import settings
from django.db import models


class Placement(models.TextChoices):
    EXPEDITE = "expedite", "Top of Ready, expedite lane, active sprint"
    SPRINT = "sprint", "Backlog card, into the active sprint on request"
    BACKLOG = "backlog", "Backlog, for the product owner to triage"
    LINKED = "linked", "Linked to an existing card"


class Outcome(models.TextChoices):
    OPEN = "", "Waiting on development"
    DONE = "done", "Card done"
    DEPLOYED = "deployed", "Release deployed"
    CANCELLED = "cancelled", "Card cancelled"


class Escalation(models.Model):
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="escalations")
    card = models.ForeignKey("boards.Card", on_delete=models.CASCADE, related_name="escalations")
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    from_team = models.ForeignKey("org.Team", on_delete=models.PROTECT, related_name="+")
    from_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_team = models.ForeignKey("org.Team", on_delete=models.PROTECT, related_name="+")
    placement = models.CharField(max_length=20, choices=Placement.choices)
    sprint = models.ForeignKey(
        "sprints.Sprint", null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations"
    )
    estimate = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    note = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True, default=Outcome.OPEN)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            # One open escalation per incident: the second of two concurrent escalations fails.
            models.UniqueConstraint(
                fields=["incident"], condition=models.Q(returned_at__isnull=True), name="one_open_escalation"
            )
        ]
        indexes = [models.Index(fields=["card", "returned_at"])]

    def __str__(self):
        return f"{self.incident_id} → {self.card_id}"
