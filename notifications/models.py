"""In-app notifications (always) and their e-mail copies (when the recipient wants them).

A notification row is written in the transaction of the action it reports, so it exists
exactly when the action committed; its e-mail is sent by Celery after that commit.
"""

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    ASSIGNED = "assigned", "An incident is assigned to you"
    REPLY = "reply", "A public reply on an incident you reported or hold"
    ESCALATED = "escalated", "An incident is handed to your team"
    SLA_WARNING = "sla_warning", "An SLA of your incident is at risk"
    SLA_BREACH = "sla_breach", "An SLA was breached"
    FIX_RETURNED = "fix_returned", "Development finished (or dropped) a card your incident waits on"
    CHANGE_DECIDED = "change_decided", "A decision on your change request"
    UNASSIGNED = "unassigned", "An incident you held was handed to a group you are not in"
    MAJOR_INCIDENT = "major_incident", "A major incident is declared (managers)"


class EmailState(models.TextChoices):
    PENDING = "pending", "To be sent"
    SENT = "sent", "Sent"
    OFF = "off", "Not wanted by e-mail"
    NO_ADDRESS = "no_address", "No e-mail address"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=250)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(max_length=12, choices=EmailState.choices, default=EmailState.PENDING)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["recipient"], name="notification_unread", condition=models.Q(read_at__isnull=True)
            ),
            models.Index(
                fields=["created_at"],
                name="notification_mail_pending",
                condition=models.Q(email_state="pending"),
            ),
        ]

    def __str__(self):
        return f"{self.recipient_id}: {self.title}"


class EmailPreference(models.Model):
    """A user's choice for one kind; without a row, the kind is e-mailed (opt-out)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="email_preference_once")]

    def __str__(self):
        return f"{self.user_id} {self.kind} {'on' if self.email else 'off'}"
