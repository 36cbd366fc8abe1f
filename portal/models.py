"""Customer satisfaction (SPEC §15): one rating per resolution of an incident."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class RatingVia(models.TextChoices):
    PORTAL = "portal", "Portal"
    MAIL = "mail", "Link in the resolution mail"
    API = "api", "API"


class SatisfactionRating(models.Model):
    """The requester's 1–5 verdict on how an incident was handled, once per resolution: an
    incident reopened and resolved again (a new `resolved_at`) may be rated again."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="ratings")
    resolved_at = models.DateTimeField(help_text="The resolution rated (the incident's resolved_at then).")
    contact = models.ForeignKey(
        "org.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True)
    via = models.CharField(max_length=10, choices=RatingVia.choices, default=RatingVia.PORTAL)
    # Copied from the incident when rated, so the dashboard groups by who resolved it then.
    team = models.ForeignKey("org.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    service = models.ForeignKey(
        "org.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer = models.ForeignKey(
        "org.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "resolved_at"], name="rating_once_per_resolution"),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self):
        return f"{self.score}/5 for incident {self.incident_id}"
